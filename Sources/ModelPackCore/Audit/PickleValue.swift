/// What the scanner knows of a value on the pickle machine's stack: enough to resolve names,
/// follow the memo, and read the state of joblib array wrappers and scikit-learn estimators,
/// without ever building a real object. Containers keep at most `PickleValue.keep` items.
indirect enum PickleValue {
    case mark
    case none
    case bool(Bool)
    case int(Int64)
    case float
    case string(String)
    /// A bytes or bytearray payload: its length and its bytes, all of them up to `wholeBytes` (a
    /// small array's data), else the last `tailBytes` (where XGBoost's raw model keeps its version)
    /// and, for an XGBoost model only, the first `XGBoostModel.headBytes` (its configuration and
    /// feature names).
    case bytes(Int64, head: [UInt8], tail: [UInt8])
    case tuple([PickleValue])
    case list([PickleValue])
    case dict([(PickleValue, PickleValue)])
    case set
    /// An imported global (index into the scan's imports).
    case global(module: String, name: String)
    /// The result of calling something (REDUCE, NEWOBJ, OBJ, INST), with its BUILD state once set.
    case object(callee: PickleValue, args: PickleValue, state: PickleValue?)
    /// A numpy array: its element type (`i8`, `<U6`, `O8`...), its shape, and its elements when
    /// the scan could read them (object arrays, and integer, bool or string data of at most `wholeBytes`).
    case array(dtype: String, shape: [Int64], items: [PickleValue]?)
    /// A persistent reference (PERSID, BINPERSID) with its id: PyTorch's `('storage', storage
    /// type, key, location, size)`.
    case persistent(PickleValue)
    case unknown

    static let keep = 256

    /// The number of elements of a shape; nil for a negative dimension or one too large to exist.
    static func count(_ shape: [Int64]) -> Int64? {
        var n: Int64 = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (product, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = product
        }
        return n
    }
    static let tailBytes = 64
    static let wholeBytes: Int64 = 4096

    /// The tail of a bytes value, or of `bytearray(bytes)` (how protocols below 5 write a bytearray).
    var bytesTail: [UInt8]? {
        switch self {
        case .bytes(_, _, let tail): return tail
        case .object(let callee, let args, _) where callee.qualifiedName == "builtins.bytearray":
            return args.items?.first?.bytesTail
        default: return nil
        }
    }

    /// The head kept of a bytes value (or of `bytearray(bytes)`), or the whole of one kept entirely.
    var bytesHead: [UInt8]? {
        switch self {
        case .bytes(_, let head, _) where !head.isEmpty: return head
        case .object(let callee, let args, _) where callee.qualifiedName == "builtins.bytearray":
            return args.items?.first?.bytesHead
        default: return bytesPayload
        }
    }

    /// The whole payload of a bytes value the scan kept entirely (at most `wholeBytes`), including
    /// `_codecs.encode(text, 'latin1')`, how protocols 0 to 2 write bytes.
    var bytesPayload: [UInt8]? {
        switch self {
        case .bytes(let n, _, let tail) where n == Int64(tail.count): return tail
        case .object(let callee, let args, _) where callee.qualifiedName == "_codecs.encode":
            guard let items = args.items, items.count == 2, items[1].string == "latin1",
                let text = items[0].string, Int64(text.utf8.count) <= 2 * Self.wholeBytes,
                text.unicodeScalars.allSatisfy({ $0.value < 256 })
            else { return nil }
            return text.unicodeScalars.map { UInt8($0.value) }
        default: return nil
        }
    }

    /// The type string of a pickled `numpy.dtype` (`dtype('i8', False, True)` with its byte order
    /// from the BUILD state when it was set), e.g. `<i8`, `|O8`, `<U6`.
    var dtype: String? {
        guard case .object(let callee, let args, let state) = self, callee.qualifiedName == "numpy.dtype",
            let code = args.items?.first?.string
        else { return nil }
        guard let order = state?.items?.dropFirst().first?.string, !"<>|=".contains(code.first ?? " ") else {
            return code
        }
        return order + code
    }

    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var int: Int64? {
        switch self {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    var items: [PickleValue]? {
        switch self {
        case .tuple(let items), .list(let items): return items
        case .array(_, _, let items): return items
        case .object(let callee, let args, _) where callee.qualifiedName?.hasSuffix("numeric._frombuffer") == true:
            // How protocol 5 writes a numeric array: `_frombuffer(data, dtype, shape, order)`.
            guard let a = args.items, a.count >= 3, let data = a[0].bytesPayload, let dtype = a[1].dtype,
                let shape = a[2].items?.compactMap(\.int)
            else { return nil }
            return PickleValue.count(shape).flatMap { PickleScanner.elements(data, dtype: dtype, count: $0) }
        default: return nil
        }
    }

    /// The values of a dict (NEWOBJ_EX's keyword arguments); nil for anything else.
    var dictValues: [PickleValue]? {
        if case .dict(let pairs) = self { return pairs.map(\.1) }
        return nil
    }

    /// The strings of a list, tuple or array of strings; nil when any item is something else.
    var strings: [String]? {
        guard let items, items.allSatisfy({ $0.string != nil }) else { return nil }
        return items.compactMap(\.string)
    }

    /// An object's state (what BUILD set), for an instance however it was pickled.
    var state: PickleValue? {
        if case .object(_, _, let state) = self { return state }
        return nil
    }

    /// The class of an instance: NEWOBJ's class, or the class `copyreg._reconstructor` is given
    /// (protocols 0 and 1).
    var className: String? {
        guard case .object(let callee, let args, _) = self else { return nil }
        if callee.qualifiedName == "copyreg._reconstructor" { return args.items?.first?.qualifiedName }
        return callee.qualifiedName
    }

    subscript(key: String) -> PickleValue? {
        guard case .dict(let pairs) = self else { return nil }
        return pairs.first { $0.0.string == key }?.1
    }

    /// `module.name` of a global, or of the callee of an object.
    var qualifiedName: String? {
        switch self {
        case .global(let module, let name): return module + "." + name
        case .object(let callee, _, _): return callee.qualifiedName
        default: return nil
        }
    }

    func appending(_ values: [PickleValue]) -> PickleValue {
        switch self {
        case .list(let items):
            return .list(items.count >= Self.keep ? items : items + values.prefix(Self.keep - items.count))
        default: return self
        }
    }

    func setting(_ pairs: [(PickleValue, PickleValue)]) -> PickleValue {
        switch self {
        case .dict(let existing):
            return .dict(existing.count >= Self.keep ? existing : existing + pairs.prefix(Self.keep - existing.count))
        default: return self
        }
    }
}
