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
    /// A bytes or bytearray payload: its length and its last `tailBytes` bytes (where XGBoost's
    /// raw model keeps its version).
    case bytes(Int64, tail: [UInt8])
    case tuple([PickleValue])
    case list([PickleValue])
    case dict([(PickleValue, PickleValue)])
    case set
    /// An imported global (index into the scan's imports).
    case global(module: String, name: String)
    /// The result of calling something (REDUCE, NEWOBJ, OBJ, INST), with its BUILD state once set.
    case object(callee: PickleValue, args: PickleValue, state: PickleValue?)
    case persistent
    case unknown

    static let keep = 256
    static let tailBytes = 64

    /// The tail of a bytes value, or of `bytearray(bytes)` (how protocols below 5 write a bytearray).
    var bytesTail: [UInt8]? {
        switch self {
        case .bytes(_, let tail): return tail
        case .object(let callee, let args, _) where callee.qualifiedName == "builtins.bytearray":
            return args.items?.first?.bytesTail
        default: return nil
        }
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
        default: return nil
        }
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
