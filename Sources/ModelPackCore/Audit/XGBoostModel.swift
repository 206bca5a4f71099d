/// What the start of XGBoost's serialised model says of how it is called. A pickled XGBoost
/// Booster keeps its model as UBJSON bytes, `{"Config": {...}, "Model": {"learner": {"attributes":
/// {}, "feature_names": [...], "feature_types": [...], ...}}}`: the configuration (with
/// `num_feature`, `num_class` and the objective's name) and the column names come first, the
/// trees after, so the scan keeps the first `headBytes` of such a payload and reads them here.
struct XGBoostModel: Equatable {
    /// `{"Config": {` as XGBoost writes it: a key is `L`, its length as 8 bytes big-endian, its bytes.
    static let signature: [UInt8] = Array("{L".utf8) + [0, 0, 0, 0, 0, 0, 0, 6] + Array("Config{".utf8)
    static let headBytes: Int64 = 1 << 16

    static func starts(_ bytes: [UInt8]) -> Bool { bytes.starts(with: signature) }

    /// The column names it was fitted with (empty when fitted on a matrix).
    let featureNames: [String]
    let featureCount: Int?
    let classCount: Int?
    /// The objective's name, e.g. `multi:softprob`, `binary:logistic`, `reg:squarederror`.
    let objective: String?
    /// Each column's type: `float`, `int`, `c` for a categorical one (`enable_categorical`).
    let featureTypes: [String]

    init?(_ head: [UInt8]) {
        guard Self.starts(head) else { return nil }
        let config = Self.key("learner_model_param", in: head, from: 0)
        featureCount = config.flatMap { Self.string(after: "num_feature", in: head, from: $0) }.flatMap { Int($0) }
        classCount = config.flatMap { Self.string(after: "num_class", in: head, from: $0) }.flatMap { Int($0) }
        // learner_train_param's `"objective": "multi:softprob"`, else the objective object's name.
        objective = Self.key("objective", in: head, from: 0).flatMap {
            Self.stringValue(in: head, at: $0)?.0 ?? Self.string(after: "name", in: head, from: $0)
        }
        featureNames = Self.key("feature_names", in: head, from: 0).flatMap { Self.strings(in: head, at: $0) } ?? []
        featureTypes = Self.key("feature_types", in: head, from: 0).flatMap { Self.strings(in: head, at: $0) } ?? []
    }

    /// The offset just past the first `key` at or after `from`.
    static func key(_ key: String, in bytes: [UInt8], from: Int) -> Int? {
        let pattern = [UInt8(ascii: "L")] + bigEndian(UInt64(key.utf8.count)) + Array(key.utf8)
        guard bytes.count >= pattern.count, from <= bytes.count - pattern.count else { return nil }
        for i in from...(bytes.count - pattern.count) where bytes[i] == pattern[0] {
            if bytes[i..<(i + pattern.count)].elementsEqual(pattern) { return i + pattern.count }
        }
        return nil
    }

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    /// An 8-byte big-endian length after an `L` marker at `at`, and the offset after it.
    static func length(in bytes: [UInt8], at: Int) -> (Int, Int)? {
        guard at + 9 <= bytes.count, bytes[at] == UInt8(ascii: "L") else { return nil }
        let value = bytes[(at + 1)..<(at + 9)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard value <= UInt64(bytes.count) else { return nil }
        return (Int(value), at + 9)
    }

    /// A string value (`S`, a length, the bytes) at `at`, and the offset after it.
    static func stringValue(in bytes: [UInt8], at: Int) -> (String, Int)? {
        guard at < bytes.count, bytes[at] == UInt8(ascii: "S"), let (n, start) = length(in: bytes, at: at + 1),
            start + n <= bytes.count
        else { return nil }
        return (String(decoding: bytes[start..<(start + n)], as: UTF8.self), start + n)
    }

    static func string(after key: String, in bytes: [UInt8], from: Int) -> String? {
        self.key(key, in: bytes, from: from).flatMap { stringValue(in: bytes, at: $0)?.0 }
    }

    /// An array of strings with its count up front (`[#L<count>` then the strings).
    static func strings(in bytes: [UInt8], at: Int) -> [String]? {
        guard at + 2 <= bytes.count, bytes[at] == UInt8(ascii: "["), bytes[at + 1] == UInt8(ascii: "#"),
            let (count, first) = length(in: bytes, at: at + 2)
        else { return nil }
        var out: [String] = []
        var i = first
        for _ in 0..<count {
            guard let (s, next) = stringValue(in: bytes, at: i) else { return nil }
            out.append(s)
            i = next
        }
        return out
    }
}
