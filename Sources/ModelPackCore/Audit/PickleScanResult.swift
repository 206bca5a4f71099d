/// A global a pickle imports, with the verdict of the import policy.
public struct PickleImport: Codable, Equatable, Sendable {
    public let module: String
    public let name: String
    public let verdict: ImportVerdict
    public let reason: String?
    /// Byte offset of the opcode in the scanned stream.
    public let offset: Int64
    public var qualifiedName: String { module + "." + name }
}

/// Something the pickle does beyond importing: a call on a computed value, a BUILD on a global, a
/// truncation, an opcode loaders disagree on...
public struct PickleFinding: Codable, Equatable, Sendable {
    /// What kind of thing it is; the diagnostic code derives from it (`DiagnosticCode.of`).
    public enum Kind: String, Codable, Sendable {
        /// The stream ends inside a pickle: it cannot load.
        case truncated
        /// An opcode or argument no loader accepts (corrupt from here on).
        case corrupt
        /// Bytes that are not a pickle (at the start, or after the last pickle).
        case notPickle = "not-pickle"
        /// A construct loaders and scanners read differently (a scanner-evasion trick).
        case evasion
        /// Legal but unusual: a computed call, the extension registry, a second PROTO.
        case unusual
        /// The scan stopped at a limit.
        case limit
    }
    public let kind: Kind
    public let verdict: ImportVerdict
    public let message: String
    public let offset: Int64
}

/// What scanning a pickle stream found. Imports and findings are kept in the order the loader would
/// meet them, so what precedes a truncation is still reported.
public struct PickleScanResult: Codable, Equatable, Sendable {
    public var pickles = 0
    public var opcodes = 0
    public var protocols: [Int] = []
    public var imports: [PickleImport] = []
    /// Callables invoked by REDUCE/NEWOBJ/NEWOBJ_EX/OBJ/INST, as `module.name` (or `<computed>`), deduplicated.
    public var calls: [String] = []
    /// Every global the pickle calls or instantiates: a call's callee, and the globals passed to a
    /// call as arguments (a reconstructor instantiates them). One not on the allowlist is MP516.
    public var invoked: Set<String> = []
    public var findings: [PickleFinding] = []
    /// Library versions the pickle records, e.g. scikit-learn's `_sklearn_version`.
    public var recordedVersions: [String: [String]] = [:]
    /// Bytes of inline array data skipped (joblib).
    public var arrayBytes: Int64 = 0
    /// How the estimator the first pickle loads is called, as far as its state says.
    public var estimator: EstimatorFacts?
    /// The tensors of the PyTorch state dict the first pickle loads (names, dtypes, shapes).
    public var stateDict: Weights?

    public var verdict: ImportVerdict {
        (imports.map(\.verdict) + findings.map(\.verdict)).max() ?? .safe
    }

    /// The distinct imports, in first-seen order.
    public var distinctImports: [PickleImport] {
        var seen = Set<String>()
        return imports.filter { seen.insert($0.qualifiedName).inserted }
    }
}

extension DiagnosticCode {
    /// The code of a pickle finding, from its kind (never from its message).
    static func of(_ finding: PickleFinding) -> DiagnosticCode {
        switch finding.kind {
        case .truncated: return .artifactTruncated
        case .corrupt, .notPickle: return finding.verdict == .dangerous ? .pickleAnomaly : .pickleBroken
        case .evasion, .unusual, .limit: return .pickleAnomaly
        }
    }
}
