/// Every diagnostic modelpack can emit. Codes are stable: a code's meaning never changes, and a
/// retired code is never reused. Docs/DIAGNOSTICS.md lists each with an example.
package enum DiagnosticCode: String, Codable, Sendable, CaseIterable {
    // MP0xx: the model directory
    case requiredFileMissing = "MP001"
    case unreadableFile = "MP002"
    // MP1xx: metadata.yaml
    case yamlSyntax = "MP101"
    case yamlDuplicateKey = "MP102"
    case yamlLimit = "MP103"
    case missingField = "MP104"
    case wrongType = "MP105"
    case unknownKey = "MP106"
    case invalidName = "MP107"
    case invalidVersion = "MP108"
    case invalidValue = "MP109"
    case invalidSignature = "MP110"
    case exampleMismatch = "MP111"
    case unknownFramework = "MP112"
    case recommendedField = "MP113"
    case artifactMismatch = "MP114"
    // MP2xx: requirements.txt
    case requirementSyntax = "MP201"
    case unpinned = "MP202"
    case looselyPinned = "MP203"
    case duplicateRequirement = "MP204"
    case contradiction = "MP205"
    case editable = "MP206"
    case pipOption = "MP207"
    case badInclude = "MP208"
    case frameworkMissing = "MP209"
    case frameworkVersion = "MP210"
    case directReference = "MP211"
    case partialHashes = "MP212"
    // MP3xx: interface.py
    case noLoadModel = "MP301"
    case noPredict = "MP302"
    case predictSignature = "MP303"
    case pythonSyntax = "MP304"
    case loadModelSignature = "MP305"
    case interfaceUnfinished = "MP306"
    // MP4xx: artifacts
    case artifactMissing = "MP401"
    case artifactEmpty = "MP402"
    case artifactOutside = "MP403"
    case noArtifacts = "MP404"
    // MP5xx: the artifact audit (inspect)
    case dangerousImport = "MP501"
    case unknownImport = "MP502"
    case pickleAnomaly = "MP503"
    case pickleBroken = "MP504"
    case pickledVersionMismatch = "MP505"
    case pickledVersionUnpinned = "MP506"
    case importWithoutRequirement = "MP507"
    case invalidHeader = "MP508"
    case externalData = "MP509"
    case chatTemplate = "MP510"
    case codeInModel = "MP511"
    case objectArray = "MP512"
    case artifactTruncated = "MP513"
    case mainModuleClass = "MP514"
    case notAudited = "MP515"
    case unvettedCall = "MP516"
    case onnxVersionUnsupported = "MP517"
    // MP6xx: a bundle against its manifest and signature (verify)
    case bundleFileMismatch = "MP601"
    case signatureNotValid = "MP602"
    // MP7xx: the model's environment, as pip resolves it (validate --resolve)
    case unresolvable = "MP701"

    package var severity: Severity {
        switch self {
        case .unknownKey, .unknownFramework, .recommendedField, .unpinned, .looselyPinned, .duplicateRequirement,
            .directReference, .loadModelSignature, .interfaceUnfinished, .noArtifacts, .unknownImport, .pickleBroken,
            .pickledVersionUnpinned, .objectArray, .notAudited:
            return .warning
        case .chatTemplate:
            return .note
        default:
            return .error
        }
    }

    /// A short name for SARIF's `rules[].name` and the docs.
    package var title: String {
        switch self {
        case .requiredFileMissing: return "required-file-missing"
        case .unreadableFile: return "unreadable-file"
        case .yamlSyntax: return "yaml-syntax"
        case .yamlDuplicateKey: return "yaml-duplicate-key"
        case .yamlLimit: return "yaml-limit"
        case .missingField: return "missing-field"
        case .wrongType: return "wrong-type"
        case .unknownKey: return "unknown-key"
        case .invalidName: return "invalid-name"
        case .invalidVersion: return "invalid-version"
        case .invalidValue: return "invalid-value"
        case .invalidSignature: return "invalid-input-output"
        case .exampleMismatch: return "example-mismatch"
        case .unknownFramework: return "unknown-framework-or-task"
        case .recommendedField: return "recommended-field"
        case .artifactMismatch: return "artifact-mismatch"
        case .requirementSyntax: return "requirement-syntax"
        case .unpinned: return "unpinned"
        case .looselyPinned: return "loosely-pinned"
        case .duplicateRequirement: return "duplicate-requirement"
        case .contradiction: return "contradictory-requirements"
        case .editable: return "editable-install"
        case .pipOption: return "pip-option"
        case .badInclude: return "bad-include"
        case .frameworkMissing: return "framework-missing"
        case .frameworkVersion: return "framework-version-mismatch"
        case .directReference: return "direct-reference"
        case .partialHashes: return "partial-hashes"
        case .noLoadModel: return "no-load-model"
        case .noPredict: return "no-predict"
        case .predictSignature: return "predict-signature"
        case .pythonSyntax: return "python-syntax"
        case .loadModelSignature: return "load-model-signature"
        case .interfaceUnfinished: return "interface-unfinished"
        case .artifactMissing: return "artifact-missing"
        case .artifactEmpty: return "artifact-empty"
        case .artifactOutside: return "artifact-outside"
        case .noArtifacts: return "no-artifacts"
        case .dangerousImport: return "dangerous-import"
        case .unknownImport: return "unknown-import"
        case .pickleAnomaly: return "pickle-anomaly"
        case .pickleBroken: return "pickle-broken"
        case .pickledVersionMismatch: return "pickled-version-mismatch"
        case .pickledVersionUnpinned: return "pickled-version-unpinned"
        case .importWithoutRequirement: return "import-without-requirement"
        case .invalidHeader: return "invalid-header"
        case .externalData: return "external-data-outside"
        case .chatTemplate: return "chat-template"
        case .codeInModel: return "code-in-model"
        case .objectArray: return "object-array"
        case .artifactTruncated: return "artifact-truncated"
        case .mainModuleClass: return "class-from-main"
        case .notAudited: return "not-audited"
        case .unvettedCall: return "call-not-on-allowlist"
        case .onnxVersionUnsupported: return "onnx-version-unsupported"
        case .bundleFileMismatch: return "bundle-file-mismatch"
        case .signatureNotValid: return "signature-not-valid"
        case .unresolvable: return "unresolvable-requirements"
        }
    }

    /// One sentence for SARIF's `shortDescription`.
    package var summary: String {
        switch self {
        case .requiredFileMissing: return "A required file (metadata.yaml, requirements.txt, interface.py) is missing."
        case .unreadableFile: return "A file cannot be read or is not UTF-8 text."
        case .yamlSyntax: return "metadata.yaml is not valid YAML."
        case .yamlDuplicateKey: return "A key appears twice in the same YAML mapping."
        case .yamlLimit: return "metadata.yaml exceeds a size, depth or alias-expansion limit."
        case .missingField: return "A required metadata field is missing."
        case .wrongType: return "A metadata field has the wrong type."
        case .unknownKey: return "A metadata key is not part of the schema."
        case .invalidName: return "The model name is not a valid slug."
        case .invalidVersion: return "A version is not a valid PEP 440 version."
        case .invalidValue: return "A metadata value is outside its allowed set or format."
        case .invalidSignature: return "An input or output declaration is inconsistent."
        case .exampleMismatch: return "The input example does not match the declared inputs."
        case .unknownFramework: return "The framework or task is not one modelpack knows."
        case .recommendedField: return "A recommended metadata field is missing."
        case .artifactMismatch:
            return
                "metadata.yaml's inputs or outputs contradict what an artifact records (columns, categories, classes, graph inputs)."
        case .requirementSyntax: return "A requirement line is not valid PEP 508 / pip syntax."
        case .unpinned: return "A requirement has no version constraint."
        case .looselyPinned: return "A requirement is not pinned to one exact version."
        case .duplicateRequirement: return "A package is required more than once."
        case .contradiction: return "Requirements for one package cannot all be satisfied."
        case .editable: return "An editable install (-e) is not reproducible."
        case .pipOption: return "A pip option that changes where or how packages are installed."
        case .badInclude: return "A -r/-c include is missing or outside the model directory."
        case .frameworkMissing: return "The framework named in metadata is not in requirements.txt."
        case .frameworkVersion: return "The framework version in metadata contradicts requirements.txt."
        case .directReference: return "A requirement is installed from a URL or path."
        case .partialHashes: return "Some requirements carry --hash and others do not."
        case .noLoadModel: return "interface.py has no top-level load_model function."
        case .noPredict: return "interface.py has no class with a predict method."
        case .predictSignature: return "predict does not take an input argument."
        case .pythonSyntax: return "interface.py does not compile."
        case .loadModelSignature: return "load_model requires arguments that the runtime cannot pass."
        case .interfaceUnfinished: return "interface.py raises NotImplementedError: part of it is still to write."
        case .artifactMissing: return "An artifact declared in metadata does not exist."
        case .artifactEmpty: return "An artifact is an empty file."
        case .artifactOutside: return "An artifact path points outside the model directory."
        case .noArtifacts: return "The model has no artifacts."
        case .dangerousImport: return "A pickle imports something that can run code or reach files or the network."
        case .unknownImport: return "A pickle imports something on neither the allowlist nor the blocklist."
        case .pickleAnomaly:
            return "A pickle does something loaders or scanners disagree on, or calls a computed value."
        case .pickleBroken: return "A pickle is truncated or corrupt; what precedes the break would still run."
        case .pickledVersionMismatch:
            return "A pickle records a library version other than the one requirements.txt pins."
        case .pickledVersionUnpinned: return "A pickle records a library version that requirements.txt does not pin."
        case .importWithoutRequirement: return "A pickle imports a module that no requirement provides."
        case .invalidHeader: return "An artifact's header is invalid (safetensors, npy, GGUF, ONNX)."
        case .externalData: return "An ONNX model points at external data outside the bundle."
        case .chatTemplate: return "A GGUF model carries a chat template (Jinja): review it."
        case .codeInModel: return "A model embeds code that runs when it is loaded (Keras Lambda layer)."
        case .objectArray: return "A numpy array of Python objects: loading it unpickles its contents."
        case .artifactTruncated: return "An artifact ends before its own structure does: it cannot load."
        case .mainModuleClass:
            return "A pickle refers to a class defined in __main__: it loads only inside the script that trained it."
        case .notAudited:
            return
                "Bytes the audit did not read or understand: never safe, and an error where a pickle loader reads them."
        case .unvettedCall:
            return "A pickle calls or instantiates a global that is not on the reviewed allowlist: loading runs it."
        case .onnxVersionUnsupported:
            return "An ONNX model's IR version or opset is newer than the pinned onnxruntime loads."
        case .bundleFileMismatch:
            return "A bundle entry differs from its manifest (modified, missing, extra, refused or truncated)."
        case .signatureNotValid: return "The bundle is not signed, or not validly, by a trusted key."
        case .unresolvable:
            return "pip's resolver finds no versions that install the requirements for the model's Python and platform."
        }
    }
}

extension DiagnosticCode {

    /// Codes of the model's files (MP0xx to MP4xx); MP5xx are the artifact audit's, MP6xx verify's.
    package var isValidation: Bool { rawValue < "MP5" }
}
