/// A global a pickle imports, with the verdict of the import policy.
package struct PickleImport: Codable, Equatable, Sendable {
    package let module: String
    package let name: String
    package let verdict: ImportVerdict
    package let reason: String?
    /// Byte offset of the opcode in the scanned stream.
    package let offset: Int64
    package var qualifiedName: String { module + "." + name }
}

/// Something the pickle does beyond importing: a call on a computed value, a BUILD on a global, a
/// truncation, an opcode loaders disagree on...
package struct PickleFinding: Codable, Equatable, Sendable {
    /// What kind of thing it is; the diagnostic code derives from it (`DiagnosticCode.of`).
    package enum Kind: String, Codable, Sendable {
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
    package let kind: Kind
    package let verdict: ImportVerdict
    package let message: String
    package let offset: Int64
}

/// What scanning a pickle stream found. Imports and findings are kept in the order the loader would
/// meet them, so what precedes a truncation is still reported.
package struct PickleScanResult: Codable, Equatable, Sendable {
    package var pickles = 0
    package var opcodes = 0
    package var protocols: [Int] = []
    package var imports: [PickleImport] = []
    /// Callables invoked by REDUCE/NEWOBJ/NEWOBJ_EX/OBJ/INST, as `module.name` (or `<computed>`), deduplicated.
    package var calls: [String] = []
    /// Every global the pickle calls or instantiates: a call's callee, and the globals passed to a
    /// call as arguments (a reconstructor instantiates them). One not on the allowlist is MP516.
    package var invoked: Set<String> = []
    package var findings: [PickleFinding] = []
    /// Library versions the pickle records, e.g. scikit-learn's `_sklearn_version`.
    package var recordedVersions: [String: [String]] = [:]
    /// Bytes of inline array data skipped (joblib).
    package var arrayBytes: Int64 = 0
    /// How the estimator the first pickle loads is called, as far as its state says.
    package var estimator: EstimatorFacts?
    /// The tensors of the PyTorch state dict the first pickle loads (names, dtypes, shapes).
    package var stateDict: Weights?

    package var verdict: ImportVerdict {
        (imports.map(\.verdict) + findings.map(\.verdict)).max() ?? .safe
    }

    /// The distinct imports, in first-seen order.
    package var distinctImports: [PickleImport] {
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
