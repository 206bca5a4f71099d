import Foundation

/// Walks pickle opcodes (protocols 0 to 5) the way `pickle.Unpickler` reads them, tracking the
/// stack and the memo symbolically: a STACK_GLOBAL's names are resolved exactly whatever MEMOIZE,
/// PUT, GET and decoys were used to build them, every import is judged by `ImportPolicy`, and
/// every call is recorded. It scans concatenated pickles to the end of the stream, skips joblib's
/// inline array data (and scans its object arrays, which are nested pickles), and stops at a
/// truncation or a malformed opcode with what it found up to there. Nothing is executed.
struct PickleScanner {
    let reader: ByteReader
    let limits: PickleLimits
    var result = PickleScanResult()
    private var callSet = Set<String>()
    /// `getattr(GLOBAL, 'name')` calls resolved statically, and whether getattr was ever called on
    /// anything else (then it stays the blocklisted primitive it is).
    private var staticGetattrs = 0
    private var dynamicGetattr = false

    init(reader: ByteReader, limits: PickleLimits) {
        self.reader = reader
        self.limits = limits
    }

    struct Stop: Error {
        let message: String
        let verdict: ImportVerdict
        var kind: PickleFinding.Kind = .corrupt
        let offset: Int64
    }

    static let opcodeBytes: Set<UInt8> = Set(
        Array("(.012FIJKLMNPQRSTUVXabcdeghijlopqrstu}]GBC)".utf8) + Array(0x80...0x98))

    /// Scans every pickle in the stream.
    mutating func scanAll() -> PickleScanResult {
        while (try? reader.isAtEnd) == false {
            if let max = limits.maxPickles, result.pickles >= max { break }
            let start = reader.offset
            guard let first = try? reader.peekByte(), Self.opcodeBytes.contains(first) else {
                if result.pickles == 0 {
                    result.findings.append(
                        PickleFinding(
                            kind: .notPickle, verdict: .unknown, message: "not a pickle stream", offset: start))
                } else {
                    result.findings.append(
                        PickleFinding(
                            kind: .notPickle, verdict: .unknown,
                            message: "\(Self.remaining(reader)) bytes of non-pickle data after the last pickle",
                            offset: start))
                }
                break
            }
            do {
                let root = try scanOne()
                if result.pickles == 0, let root {
                    result.estimator = EstimatorFacts(root)
                    result.stateDict = StateDict.weights(root)
                }
                result.pickles += 1
            } catch let stop as Stop {
                result.pickles += 1
                result.findings.append(
                    PickleFinding(kind: stop.kind, verdict: stop.verdict, message: stop.message, offset: stop.offset))
                break
            } catch {
                result.pickles += 1
                result.findings.append(
                    PickleFinding(
                        kind: .truncated, verdict: .unknown,
                        message:
                            "the pickle ends abruptly (truncated): everything before this point would run when loaded",
                        offset: reader.offset))
                break
            }
        }
        settleGetattr()
        return result
    }

    /// Counts the rest of the stream, a chunk at a time.
    static func remaining(_ reader: ByteReader) -> String {
        var n: Int64 = 0
        while let chunk = try? reader.chunk(1 << 20), !chunk.isEmpty { n += Int64(chunk.count) }
        return String(n)
    }

    // MARK: the machine

    mutating func scanOneForNesting() throws -> PickleValue? { try scanOne() }

    /// One pickle, to its STOP; returns the value it loads (as far as the scan can tell).
    private mutating func scanOne() throws -> PickleValue? {
        var stack: [PickleValue] = []
        var memo: [Int64: MemoEntry] = [:]
        // Where each stack value is memoized (key and the PUT that stored it), so that filling a
        // list or dict, or BUILDing an object, later updates the memo too: the loader's memo holds
        // the object itself, and a later GET sees it complete. Up to `memoUpdates` of them: a pickle
        // of many small containers (a dataset, not a model) would otherwise keep every one, filled.
        var slots: [(key: Int64, put: Int)?] = []
        var updates = 0
        var frameEnd: Int64?
        var sawProto = false

        func pop() throws -> PickleValue {
            guard let v = stack.popLast() else {
                throw Stop(message: "stack underflow (malformed pickle)", verdict: .unknown, offset: reader.offset)
            }
            slots.removeLast()
            return v
        }
        /// Pops a container to fill (or an object to BUILD), with where it is memoized.
        func popTarget() throws -> (PickleValue, (key: Int64, put: Int)?) {
            let slot = slots.last ?? nil
            return (try pop(), slot)
        }
        /// Pushes the filled container back, updating the memo entry that holds it (if no later PUT
        /// reused the key).
        func pushUpdated(_ v: PickleValue, _ slot: (key: Int64, put: Int)?) throws {
            try push(v)
            if let slot, updates < Self.memoUpdates, memo[slot.key]?.put == slot.put {
                updates += 1
                memo[slot.key]?.value = v
                slots[slots.count - 1] = slot
            }
        }
        func popMark() throws -> [PickleValue] {
            guard
                let i = stack.lastIndex(where: {
                    if case .mark = $0 { return true }; return false
                })
            else {
                throw Stop(message: "MARK expected (malformed pickle)", verdict: .unknown, offset: reader.offset)
            }
            let items = Array(stack[(i + 1)...])
            stack.removeSubrange(i...)
            slots.removeSubrange(i...)
            return items
        }
        func push(_ v: PickleValue) throws {
            if stack.count >= limits.maxStack {
                throw Stop(
                    message:
                        "the scan stopped: stack deeper than \(limits.maxStack) entries (raise the limit with \(CommandFlag.maxPickleStack))",
                    verdict: .unknown, kind: .limit,
                    offset: reader.offset)
            }
            stack.append(v)
            slots.append(nil)
        }
        func remember(_ key: Int64, _ v: PickleValue) throws {
            if memo.count >= limits.maxMemo {
                throw Stop(
                    message:
                        "the scan stopped: memo larger than \(limits.maxMemo) entries (raise the limit with \(CommandFlag.maxPickleMemo))",
                    verdict: .unknown, kind: .limit,
                    offset: reader.offset)
            }
            memo[key] = MemoEntry(value: v, put: result.opcodes)
            if !slots.isEmpty { slots[slots.count - 1] = (key, result.opcodes) }
        }
        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
        func lineInt() throws -> Int64 {
            let t = text(try reader.line()).trimmingCharacters(in: .whitespaces)
            guard let v = Int64(t.hasSuffix("L") ? String(t.dropLast()) : t) else {
                throw Stop(message: "invalid integer '\(t.prefix(40))'", verdict: .unknown, offset: reader.offset)
            }
            return v
        }
        func length(_ n: UInt64, at offset: Int64) throws -> Int64 {
            guard n < ByteReader.maxLength else {
                throw Stop(message: "impossible length", verdict: .unknown, offset: offset)
            }
            return Int64(n)
        }

        while true {
            let offset = reader.offset
            if let end = frameEnd, offset >= end {
                if offset > end {
                    throw Stop(
                        message:
                            "an opcode's argument crosses a FRAME boundary: loaders disagree on how to read this (a scanner-evasion trick)",
                        verdict: .dangerous, kind: .evasion, offset: offset)
                }
                frameEnd = nil
            }
            result.opcodes += 1
            if result.opcodes > limits.maxOpcodes {
                throw Stop(
                    message:
                        "the scan stopped after \(limits.maxOpcodes) opcodes (raise the limit with \(CommandFlag.maxPickleOpcodes))",
                    verdict: .unknown, kind: .limit, offset: offset)
            }
            let op = try reader.byte()
            switch op {
            case UInt8(ascii: "("): try push(.mark)
            case UInt8(ascii: "."):
                return try? pop()
            case UInt8(ascii: "0"): _ = try pop()
            case UInt8(ascii: "1"): _ = try popMark()
            case UInt8(ascii: "2"):
                guard let top = stack.last else {
                    throw Stop(message: "DUP on an empty stack", verdict: .unknown, offset: offset)
                }
                let slot = slots.last ?? nil
                try push(top)
                slots[slots.count - 1] = slot
            case UInt8(ascii: "F"): _ = try reader.line(); try push(.float)
            case UInt8(ascii: "G"): try reader.skip(8); try push(.float)
            case UInt8(ascii: "I"):
                let t = text(try reader.line())
                try push(t == "00" ? .bool(false) : t == "01" ? .bool(true) : Int64(t).map { .int($0) } ?? .unknown)
            case UInt8(ascii: "J"): try push(.int(Int64(Int32(truncatingIfNeeded: try reader.uint(4)))))
            case UInt8(ascii: "K"): try push(.int(Int64(try reader.uint(1))))
            case UInt8(ascii: "M"): try push(.int(Int64(try reader.uint(2))))
            case UInt8(ascii: "L"): _ = try reader.line(); try push(.unknown)
            case 0x8a, 0x8b:  // LONG1, LONG4
                let n = try length(try reader.uint(op == 0x8a ? 1 : 4), at: offset)
                let bytes = try reader.bytes(n, keepingAtMost: 16)
                if n <= 8 {
                    var v: Int64 = 0
                    for (i, b) in bytes.enumerated() { v |= Int64(b) << (8 * Int64(i)) }
                    if n > 0 && n < 8 && bytes[Int(n) - 1] & 0x80 != 0 { v -= Int64(1) << (8 * n) }
                    try push(.int(v))
                } else {
                    try push(.unknown)
                }
            case UInt8(ascii: "N"): try push(.none)
            case 0x88: try push(.bool(true))
            case 0x89: try push(.bool(false))
            case UInt8(ascii: "S"):
                var s = text(try reader.line())
                if s.count >= 2, let q = s.first, q == "'" || q == "\"", s.last == q {
                    s = String(s.dropFirst().dropLast())
                }
                try push(.string(s))
            case UInt8(ascii: "T"):
                try push(.string(text(try reader.bytes(try length(try reader.uint(4), at: offset)))))
            case UInt8(ascii: "U"): try push(.string(text(try reader.bytes(Int64(try reader.uint(1))))))
            case UInt8(ascii: "V"): try push(.string(text(try reader.line())))
            case UInt8(ascii: "X"):
                try push(.string(text(try reader.bytes(try length(try reader.uint(4), at: offset)))))
            case 0x8c: try push(.string(text(try reader.bytes(Int64(try reader.uint(1))))))
            case 0x8d: try push(.string(text(try reader.bytes(try length(try reader.uint(8), at: offset)))))
            case UInt8(ascii: "B"), UInt8(ascii: "C"), 0x8e, 0x96:
                let width = op == UInt8(ascii: "C") ? 1 : op == UInt8(ascii: "B") ? 4 : 8
                let n = try length(try reader.uint(width), at: offset)
                if n <= PickleValue.wholeBytes {
                    try push(.bytes(n, head: [], tail: try reader.bytes(n)))
                } else {
                    let tail = Int64(PickleValue.tailBytes)
                    let head =
                        try XGBoostModel.starts(reader.peek(XGBoostModel.signature.count))
                        ? try reader.bytes(min(n - tail, XGBoostModel.headBytes)) : []
                    try reader.skip(n - tail - Int64(head.count))
                    try push(.bytes(n, head: head, tail: try reader.bytes(tail)))
                }
            case 0x97, 0x98:  // NEXT_BUFFER, READONLY_BUFFER (out-of-band buffers)
                if op == 0x97 { try push(.bytes(0, head: [], tail: [])) }
            case UInt8(ascii: ")"): try push(.tuple([]))
            case 0x85: try push(.tuple([try pop()]))
            case 0x86:
                let b = try pop(), a = try pop()
                try push(.tuple([a, b]))
            case 0x87:
                let c = try pop(), b = try pop(), a = try pop()
                try push(.tuple([a, b, c]))
            case UInt8(ascii: "t"): try push(.tuple(Array(try popMark().prefix(PickleValue.keep))))
            case UInt8(ascii: "]"): try push(.list([]))
            case UInt8(ascii: "l"): try push(.list(Array(try popMark().prefix(PickleValue.keep))))
            case UInt8(ascii: "}"): try push(.dict([]))
            case UInt8(ascii: "d"):
                let items = try popMark()
                try push(PickleValue.dict([]).setting(Self.pairs(items)))
            case 0x8f: try push(.set)
            case 0x91: _ = try popMark(); try push(.set)
            case 0x90: _ = try popMark()  // ADDITEMS: the set stays on the stack
            case UInt8(ascii: "a"):
                let v = try pop(), (list, slot) = try popTarget()
                try pushUpdated(list.appending([v]), slot)
            case UInt8(ascii: "e"):
                let items = try popMark(), (list, slot) = try popTarget()
                try pushUpdated(list.appending(items), slot)
            case UInt8(ascii: "s"):
                let v = try pop(), k = try pop(), (d, slot) = try popTarget()
                try pushUpdated(d.setting([(k, v)]), slot)
            case UInt8(ascii: "u"):
                let items = try popMark(), (d, slot) = try popTarget()
                try pushUpdated(d.setting(Self.pairs(items)), slot)
            case UInt8(ascii: "g"), UInt8(ascii: "h"), UInt8(ascii: "j"):
                let key =
                    op == UInt8(ascii: "g") ? try lineInt() : Int64(try reader.uint(op == UInt8(ascii: "h") ? 1 : 4))
                let entry = try recall(key, memo, offset)
                try push(entry.value)
                slots[slots.count - 1] = (key, entry.put)
            case UInt8(ascii: "p"): try remember(try lineInt(), try top(stack, offset))
            case UInt8(ascii: "q"): try remember(Int64(try reader.uint(1)), try top(stack, offset))
            case UInt8(ascii: "r"): try remember(Int64(try reader.uint(4)), try top(stack, offset))
            case 0x94: try remember(Int64(memo.count), try top(stack, offset))
            case UInt8(ascii: "c"):
                let module = text(try reader.line()), name = text(try reader.line())
                try push(importGlobal(module, name, at: offset))
            case 0x93:  // STACK_GLOBAL
                let nameValue = try pop(), moduleValue = try pop()
                if let module = moduleValue.string, let name = nameValue.string {
                    try push(importGlobal(module, name, at: offset))
                } else {
                    result.findings.append(
                        PickleFinding(
                            kind: .evasion, verdict: .dangerous,
                            message: "STACK_GLOBAL with a module or name computed at load time",
                            offset: offset))
                    try push(.unknown)
                }
            case UInt8(ascii: "i"):  // INST: import and call in one
                let module = text(try reader.line()), name = text(try reader.line())
                let args = try popMark()
                let cls = importGlobal(module, name, at: offset)
                recordCall(cls, args: .tuple(args), offset)
                try push(.object(callee: cls, args: .tuple(args), state: nil))
            case UInt8(ascii: "o"):  // OBJ
                var items = try popMark()
                guard !items.isEmpty else {
                    throw Stop(message: "OBJ without a class", verdict: .unknown, offset: offset)
                }
                let cls = items.removeFirst()
                recordCall(cls, args: .tuple(items), offset)
                try push(.object(callee: cls, args: .tuple(items), state: nil))
            case UInt8(ascii: "R"):
                let args = try pop(), callee = try pop()
                if Self.getattrNames.contains(callee.qualifiedName ?? "") {
                    // How protocol 4 pickles a classmethod (zoneinfo.ZoneInfo._unpickle, which
                    // pandas' tz-aware datetimes hold): getattr(CLASS, 'name'). With a global and a
                    // constant it is an attribute chain, judged as one; on anything else it is the
                    // primitive the blocklist names.
                    if let items = args.items, items.count == 2, case .global(let module, let name) = items[0],
                        let attribute = items[1].string, !attribute.isEmpty, !attribute.contains(".")
                    {
                        staticGetattrs += 1
                        let resolved = importGlobal(module, name + "." + attribute, at: offset)
                        recordCall(callee, args: .tuple([]), offset)
                        try push(resolved)
                        continue
                    }
                    dynamicGetattr = true
                }
                recordCall(callee, args: args, offset)
                if callee.qualifiedName == "collections.OrderedDict", args.items?.isEmpty == true {
                    try push(.dict([]))  // filled by SETITEMS like a dict (a PyTorch state dict)
                } else {
                    try push(.object(callee: callee, args: args, state: nil))
                }
            case 0x81:
                let args = try pop(), cls = try pop()
                recordCall(cls, args: args, offset)
                try push(.object(callee: cls, args: args, state: nil))
            case 0x92:
                let kwargs = try pop()
                let args = try pop(), cls = try pop()
                recordCall(cls, args: .tuple((args.items ?? []) + (kwargs.dictValues ?? [])), offset)
                try push(.object(callee: cls, args: args, state: nil))
            case UInt8(ascii: "b"):
                let state = try pop(), (target, slot) = try popTarget()
                try pushUpdated(try build(target, state, at: offset, frameEnd: &frameEnd), slot)
            case UInt8(ascii: "P"): try push(.persistent(.string(text(try reader.line()))))
            case UInt8(ascii: "Q"): try push(.persistent(try pop()))
            case 0x82, 0x83, 0x84:
                let code = try reader.uint(op == 0x82 ? 1 : op == 0x83 ? 2 : 4)
                result.findings.append(
                    PickleFinding(
                        kind: .unusual, verdict: .unknown,
                        message: "EXT\(op - 0x81) \(code): imports through the copyreg extension registry",
                        offset: offset))
                try push(.unknown)
            case 0x80:
                let proto = Int(try reader.byte())
                if sawProto {
                    result.findings.append(
                        PickleFinding(
                            kind: .unusual, verdict: .unknown, message: "a second PROTO inside one pickle",
                            offset: offset))
                }
                sawProto = true
                if !result.protocols.contains(proto) { result.protocols.append(proto) }
                if proto > 5 {
                    throw Stop(
                        message: "unsupported pickle protocol \(proto)", verdict: .unknown, kind: .unusual,
                        offset: offset)
                }
            case 0x95:
                let n = try length(try reader.uint(8), at: offset)
                if frameEnd != nil {
                    throw Stop(
                        message: "a FRAME inside a frame (loaders disagree on how to read this)", verdict: .dangerous,
                        kind: .evasion, offset: offset)
                }
                frameEnd = reader.offset + n
            default:
                throw Stop(
                    message:
                        "invalid opcode 0x\(String(op, radix: 16)) (corrupt, or not a pickle from here on): everything before this point would run when loaded",
                    verdict: .unknown, offset: offset)
            }
        }
    }

    func top(_ stack: [PickleValue], _ offset: Int64) throws -> PickleValue {
        guard let v = stack.last else {
            throw Stop(message: "memoize on an empty stack", verdict: .unknown, offset: offset)
        }
        return v
    }

    /// How many memoized containers and objects a pickle's memo follows as they are filled.
    static let memoUpdates = 100_000

    /// A memoized value and the PUT that stored it (its opcode number).
    struct MemoEntry {
        var value: PickleValue
        let put: Int
    }

    func recall(_ key: Int64, _ memo: [Int64: MemoEntry], _ offset: Int64) throws -> MemoEntry {
        guard let v = memo[key] else {
            throw Stop(
                message:
                    "GET of memo entry \(key), which was never stored (the load fails here; what came before would run)",
                verdict: .unknown, offset: offset)
        }
        return v
    }

    static func pairs(_ items: [PickleValue]) -> [(PickleValue, PickleValue)] {
        stride(from: 0, to: items.count - 1, by: 2).map { (items[$0], items[$0 + 1]) }
    }

    static let getattrNames: Set<String> = ["builtins.getattr", "__builtin__.getattr"]

    /// The getattr imports, when every call of them was resolved statically: judged by what they
    /// reached, not as the primitive.
    private mutating func settleGetattr() {
        guard staticGetattrs > 0, !dynamicGetattr else { return }
        result.imports = result.imports.map { i in
            guard Self.getattrNames.contains(i.qualifiedName) else { return i }
            return PickleImport(
                module: i.module, name: i.name, verdict: .safe,
                reason: "only getattr(GLOBAL, 'name'), each judged as that name", offset: i.offset)
        }
        result.invoked.subtract(Self.getattrNames)
    }

    private mutating func importGlobal(_ module: String, _ name: String, at offset: Int64) -> PickleValue {
        let (verdict, reason) = ImportPolicy.verdict(module: module, name: name)
        result.imports.append(
            PickleImport(module: module, name: name, verdict: verdict, reason: reason, offset: offset))
        return .global(module: module, name: name)
    }

    /// Records a call (REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST): its callee, and every global handed
    /// to it as an argument, which a reconstructor instantiates (`copyreg._reconstructor(cls,
    /// base, state)` calls `base.__init__`) or any callee may call: both are `invoked`.
    private mutating func recordCall(_ callee: PickleValue, args: PickleValue, _ offset: Int64) {
        for case .global(let module, let name) in args.items ?? [] {
            result.invoked.insert(module + "." + name)
        }
        switch callee {
        case .global(let module, let name):
            result.invoked.insert(module + "." + name)
            if callSet.insert(module + "." + name).inserted { result.calls.append(module + "." + name) }
        default:
            if callSet.insert("<computed>").inserted { result.calls.append("<computed>") }
            result.findings.append(
                PickleFinding(
                    kind: .unusual, verdict: .unknown,
                    message: "calls a value computed during unpickling (not an imported class or function)",
                    offset: offset))
        }
    }
}
