/// A value as a request or the metadata example gives it: JSON's kinds, with integers kept apart
/// from other numbers.
enum InputValue: Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case list([InputValue])
    case object([String: InputValue])

    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .float: return "a number"
        case .string: return "a string"
        case .list: return "a list"
        case .object: return "a mapping"
        }
    }
}

/// The one definition of "fits the declared input", for the metadata example (validate, MP111)
/// and for requests (the server's `check`, which passes the same table of cases:
/// Fixtures/inputs/cases.json):
///
/// - `float`: a finite number (within the range of its dtype when it declares one: float16,
///   bfloat16, float32; float64 by default); `int`: an integer (not 1.0; within the range of its
///   dtype, int8 to int64 or uint8 to uint64, int64's when it declares none); `bool`: true or
///   false; `string`: a string;
///   `categorical`: one of the categories (compared as text, as YAML writes them);
/// - `tensor`: a nested list of exactly the declared number of dimensions, each of the declared
///   extent (`null` or -1: any), rectangular at every depth (no ragged rows, however deep), whose
///   elements all fit the dtype: finite numbers within the dtype's range for float types
///   (float16, bfloat16, float32, float64; float32 when no dtype is given), integers within range
///   for int8 to int64 and uint8 to uint64, booleans for bool, strings for string.
enum InputFit {
    static let floatDtypes = ["float16", "bfloat16", "float32", "float64"]
    static let intDtypes = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
    static let dtypes = floatDtypes + intDtypes + ["bool", "string"]

    /// The dtypes an input of `type` may declare (none for bool, string and categorical).
    static func dtypes(for type: String) -> [String] {
        switch type {
        case "float": return floatDtypes
        case "int": return intDtypes
        case "tensor": return dtypes
        default: return []
        }
    }

    /// Why `value` does not fit, or nil.
    static func problem(_ value: InputValue, type: String, categories: [String], shape: [Int?]?, dtype: String?)
        -> String?
    {
        switch type {
        case "float": return finite(value, dtype: dtype ?? "float64")
        case "int":
            guard case .int = value else {
                return "must be an integer\(dtype.map { " (dtype \($0))" } ?? ""), found \(value.kindName)"
            }
            return element(value, dtype: dtype ?? "int64")  // always in range: values are Int64
        case "bool":
            if case .bool = value { return nil }
            return "must be true or false, found \(value.kindName)"
        case "string":
            if case .string = value { return nil }
            return "must be a string, found \(value.kindName)"
        case "categorical":
            let text: String?
            switch value {
            case .string(let s): text = s
            case .int(let i): text = String(i)
            case .bool(let b): text = String(b)
            case .float(let d): text = String(d)
            default: text = nil
            }
            guard let text else { return "must be one of the categories, found \(value.kindName)" }
            return categories.isEmpty || categories.contains(text)
                ? nil : "'\(text)' is not one of \(categories.joined(separator: ", "))"
        case "tensor":
            guard case .list = value else { return "must be a (nested) list, found \(value.kindName)" }
            return tensor(value, shape: shape, dtype: dtype ?? "float32", path: [])
        default:
            return nil
        }
    }

    /// Walks every element (not only the first of each dimension).
    private static func tensor(_ value: InputValue, shape: [Int?]?, dtype: String, path: [Int]) -> String? {
        let at = path.isEmpty ? "" : " at [" + path.map(String.init).joined(separator: "][") + "]"
        let depth = path.count
        if let shape, depth == shape.count {
            if case .list = value { return "has more than the \(shape.count) dimensions of its shape\(at)" }
            return element(value, dtype: dtype).map { "\($0)\(at)" }
        }
        guard case .list(let items) = value else {
            if shape == nil && depth > 0 { return element(value, dtype: dtype).map { "\($0)\(at)" } }
            return "has \(depth) dimensions\(at), the shape has \(shape?.count ?? 0)"
        }
        if let shape, let want = shape[depth], want >= 0, items.count != want {
            return "has \(items.count) at dimension \(depth)\(at), the shape says \(want)"
        }
        // Rectangular: every sibling list has the extent of the first.
        var extent: Int?
        for (i, item) in items.enumerated() {
            if case .list(let inner) = item {
                if let extent, inner.count != extent {
                    return "is ragged\(at): row \(i) has \(inner.count) values, row 0 has \(extent)"
                }
                extent = extent ?? inner.count
            }
            if let problem = tensor(item, shape: shape, dtype: dtype, path: path + [i]) { return problem }
        }
        return nil
    }

    private static func element(_ value: InputValue, dtype: String) -> String? {
        switch dtype {
        case "bool":
            if case .bool = value { return nil }
            return "must hold true or false (dtype bool), found \(value.kindName)"
        case "string":
            if case .string = value { return nil }
            return "must hold strings (dtype string), found \(value.kindName)"
        case let d where d.hasPrefix("int") || d.hasPrefix("uint"):
            let bits = Int(d.drop(while: { !$0.isNumber })) ?? 64
            let unsigned = d.hasPrefix("u")
            guard case .int(let i) = value else {
                return "must hold integers (dtype \(d)), found \(value.kindName)"
            }
            // In integers (a Double rounds Int64.max up to 2^63); every Int64 fits int64.
            let fits: Bool
            if unsigned {
                fits = i >= 0 && (bits >= 63 || i < Int64(1) << bits)
            } else {
                fits = bits >= 64 || (i >= -(Int64(1) << (bits - 1)) && i < Int64(1) << (bits - 1))
            }
            return fits ? nil : "holds \(i), outside the range of \(d)"
        default:
            return finite(value, dtype: dtype)
        }
    }

    /// A finite number that the float dtype can hold.
    private static func finite(_ value: InputValue, dtype: String) -> String? {
        let number: Double
        switch value {
        case .int(let i): number = Double(i)
        case .float(let d): number = d
        default: return "must be a number, found \(value.kindName)"
        }
        guard number.isFinite else { return "must be a finite number" }
        let limit: Double
        switch dtype {
        case "float16": limit = 65504
        case "bfloat16", "float32": limit = Double(Float.greatestFiniteMagnitude)
        default: limit = Double.greatestFiniteMagnitude
        }
        return abs(number) <= limit ? nil : "holds \(number), outside the range of \(dtype)"
    }
}

extension YAMLNode {
    /// The node as a request would send it (scalars typed by the YAML core schema).
    var inputValue: InputValue {
        switch value {
        case .sequence(let items): return .list(items.map(\.inputValue))
        case .mapping(let pairs):
            var object: [String: InputValue] = [:]
            for (k, v) in pairs { object[k.scalar ?? "?"] = v.inputValue }
            return .object(object)
        case .scalar:
            switch scalarKind {
            case .null?, nil: return .null
            case .bool(let b)?: return .bool(b)
            case .int(let i)?: return .int(Int64(i))
            case .float(let d)?: return .float(d)
            case .string(let s)?: return .string(s)
            }
        }
    }
}
