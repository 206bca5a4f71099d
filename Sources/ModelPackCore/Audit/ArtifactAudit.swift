import Foundation

/// One key fact about an artifact, for the inspect table ("tensors": "291").
public struct AuditDetail: Codable, Equatable, Sendable {
    public let key: String
    public let value: String
}

/// What the audit found in one artifact.
public struct ArtifactAudit: Sendable {
    public let path: String
    public let size: Int64
    public internal(set) var format: ArtifactFormat
    public internal(set) var details: [AuditDetail] = []
    public internal(set) var diagnostics: [Diagnostic] = []
    /// Everything the pickles of this artifact (all members, all concatenated pickles) do.
    public internal(set) var pickle: PickleScanResult?
    /// An ONNX model's graph inputs and outputs.
    public internal(set) var graph: ONNXGraph?
    /// A weights file's tensors (safetensors, in the order of their data; a PyTorch state dict, in
    /// its order).
    public internal(set) var weights: Weights?
    /// The modules the model ships or trusts, against which unknown imports are judged.
    let context: AuditContext

    init(path: String, size: Int64, format: ArtifactFormat, context: AuditContext = AuditContext()) {
        self.path = path
        self.size = size
        self.format = format
        self.context = context
    }

    /// Dangerous when a finding says loading runs something; unknown when any other error or a
    /// finding to review remains (a truncated or unreadable file is never safe); else safe.
    public var verdict: ImportVerdict {
        if diagnostics.contains(where: \.saysLoadingRunsSomething) { return .dangerous }
        if diagnostics.contains(where: {
            $0.severity == .error || [.unknownImport, .pickleAnomaly, .pickleBroken, .objectArray].contains($0.code)
        }) {
            return .unknown
        }
        return .safe
    }

    mutating func detail(_ key: String, _ value: String) { details.append(AuditDetail(key: key, value: value)) }

    mutating func issue(_ code: DiagnosticCode, _ message: String, hint: String? = nil, severity: Severity? = nil) {
        diagnostics.append(Diagnostic(code, message, file: path, hint: hint, severity: severity))
    }

    /// Turns a pickle scan into diagnostics, once per distinct import and per finding. An import
    /// the policy does not know is accepted when its module is shipped in the bundle or trusted by
    /// metadata.yaml (`context`); a class from `__main__` has a code of its own.
    mutating func absorb(_ scan: PickleScanResult, member: String? = nil) {
        let prefix = member.map { "\($0): " } ?? ""
        for i in scan.distinctImports where i.verdict != .safe {
            let why = i.reason.map { " (\($0))" } ?? ""
            if i.module == "__main__" && i.verdict != .dangerous {
                issue(
                    .mainModuleClass,
                    "\(prefix)imports \(i.qualifiedName) at byte \(i.offset): a class defined in the training script, which loading outside that script cannot find",
                    hint:
                        "move \(i.name) into a module shipped in the bundle (e.g. features.py), re-fit and re-save the model"
                )
            } else if i.verdict == .dangerous {
                issue(
                    .dangerousImport,
                    "\(prefix)imports \(i.qualifiedName) at byte \(i.offset)\(why): loading this file runs it")
            } else if context.accepts(module: i.module) == nil {
                issue(
                    .unknownImport,
                    "\(prefix)imports \(i.qualifiedName) at byte \(i.offset)\(why): review it, or allow it if it is yours",
                    hint:
                        "ship its module in the bundle, or name it under trusted_modules in metadata.yaml once reviewed"
                )
            }
        }
        for f in scan.findings {
            issue(
                DiagnosticCode.of(f), "\(prefix)\(f.message) (byte \(f.offset))",
                severity: f.kind == .truncated ? nil : f.verdict == .dangerous ? .error : .warning)
        }
        var merged = pickle ?? PickleScanResult()
        merged.pickles += scan.pickles
        merged.opcodes += scan.opcodes
        merged.imports += scan.imports
        merged.calls += scan.calls.filter { !merged.calls.contains($0) }
        merged.findings += scan.findings
        merged.arrayBytes += scan.arrayBytes
        merged.estimator = merged.estimator ?? scan.estimator
        merged.stateDict = merged.stateDict ?? scan.stateDict
        for (library, versions) in scan.recordedVersions {
            merged.recordedVersions[library] = Array(Set(merged.recordedVersions[library, default: []] + versions))
                .sorted()
        }
        pickle = merged
    }
}

/// Audits artifacts by content. Reads each once, in order, through a fixed buffer; zip-based
/// formats, which need random access, go through a private temporary file when they do not come
/// from a plain file already.
public enum ArtifactAuditor {
    /// Audits one artifact; a file that ends inside its own header is a finding, not an error.
    static func audit(
        path: String, size: Int64, reader: ByteReader, filePath: String?, context: AuditContext = AuditContext()
    ) throws -> ArtifactAudit {
        do {
            return try auditContent(path: path, size: size, reader: reader, filePath: filePath, context: context)
        } catch is ByteReader.EndOfData {
            var audit = ArtifactAudit(path: path, size: size, format: .binary, context: context)
            audit.issue(.artifactTruncated, "the file ends inside its own header (truncated)")
            return audit
        }
    }

    private static func auditContent(
        path: String, size: Int64, reader: ByteReader, filePath: String?, context: AuditContext
    ) throws -> ArtifactAudit {
        let head = try reader.peek(4096)
        var audit = ArtifactAudit(
            path: path, size: size, format: ArtifactFormat.detect(head: head, size: size, name: path),
            context: context)
        switch audit.format {
        case .pickle:
            var scanner = PickleScanner(reader: reader)
            let scan = scanner.scanAll()
            if scan.imports.contains(where: { $0.module.hasPrefix("joblib.") }) { audit.format = .joblib }
            audit.detail("protocol", scan.protocols.map(String.init).joined(separator: ","))
            audit.detail("pickles", String(scan.pickles))
            if scan.arrayBytes > 0 { audit.detail("array data", ByteCount.human(scan.arrayBytes)) }
            audit.absorb(scan)
        case .pytorchLegacy:
            var limits = Limits.current.pickle
            limits.maxPickles = 5  // magic, protocol, sys info, the model, storage keys; raw storage data follows
            var scanner = PickleScanner(reader: reader, limits: limits)
            audit.absorb(scanner.scanAll())
        case .npy:
            try auditNPY(reader, into: &audit, member: nil)
        case .safetensors:
            let (details, issues, tensors) = try TensorFormats.readSafetensors(reader, size: size)
            audit.weights = Weights(tensors: tensors)
            details.forEach { audit.detail($0.0, $0.1) }
            issues.forEach { audit.issue($0.code, $0.message) }
        case .gguf:
            do {
                let (details, issues) = try TensorFormats.readGGUF(reader)
                details.forEach { audit.detail($0.0, $0.1) }
                issues.forEach { audit.issue($0.code, $0.message) }
            } catch is ByteReader.EndOfData {
                audit.issue(.artifactTruncated, "the GGUF metadata ends early (truncated or malformed)")
            }
        case .zip:
            try withRandomAccess(reader: reader, filePath: filePath) { file in
                try auditZip(file, size: size, into: &audit)
            }
        case .onnx:
            try ONNXReader.audit(reader, into: &audit)
        case .hdf5:
            audit.detail("note", "HDF5 is not parsed: a Keras .h5 model config can hold Lambda layers (CVE-2025-9905)")
        case .savedModel:
            audit.detail("note", "TensorFlow SavedModel graph (not parsed)")
        case .sevenZip:
            // nullifAI hid a payload in a 7z: its members are scanned like zip members (through libarchive).
            try withRandomAccess(reader: reader, filePath: filePath) { file in
                try auditSevenZip(file, into: &audit)
            }
        case .json, .csv, .text, .empty, .binary, .pytorchZip, .joblib, .npz, .keras:
            break
        }
        return audit
    }

    static func auditNPY(_ reader: ByteReader, into audit: inout ArtifactAudit, member: String?) throws {
        switch try TensorFormats.readNPY(reader) {
        case .failure(let issue):
            audit.issue(issue.code, (member.map { "\($0): " } ?? "") + issue.message)
        case .success(let header):
            let label = member.map { "\($0) " } ?? ""
            audit.detail("\(label)dtype", header.descr)
            audit.detail("\(label)shape", "(" + header.shape.map(String.init).joined(separator: ", ") + ")")
            if header.hasObject {
                audit.issue(
                    .objectArray,
                    (member.map { "\($0): " } ?? "")
                        + "an object array: numpy.load(allow_pickle=True) unpickles it; its pickle is scanned")
                var scanner = PickleScanner(reader: reader)
                audit.absorb(scanner.scanAll(), member: member)
            }
        }
    }

    /// Runs `body` with a file path for the artifact: its own, or a temporary copy of the stream.
    static func withRandomAccess(reader: ByteReader, filePath: String?, _ body: (String) throws -> Void) throws {
        if let filePath { return try body(filePath) }
        var template = Array((NSTemporaryDirectory() + "/modelpack-audit-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw ModelPackError.io(path: NSTemporaryDirectory(), reason: "cannot create a temporary file")
        }
        let path = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        close(fd)
        unlink(path)
        defer { unlink(path) }
        do {
            let out = try OutputFile(creating: path, mode: 0o600)
            while true {
                let chunk = try reader.chunk(1 << 20)
                if chunk.isEmpty { break }
                try chunk.withUnsafeBytes { try out.write($0) }
            }
        }
        try body(path)
    }

    static func auditSevenZip(_ file: String, into audit: inout ArtifactAudit) throws {
        let archive: ArchiveReader
        do {
            archive = try ArchiveReader(path: file, sevenZip: true)
        } catch {
            audit.issue(.invalidHeader, "a 7z archive that cannot be read")
            return
        }
        var count = 0
        do {
            while let entry = try archive.next() {
                guard entry.kind == .regular, let name = entry.path else { continue }
                count += 1
                let reader = ByteReader { try archive.read(into: $0) }
                let head = try reader.peek(16)
                if head.starts(with: [0x80]) && head.count > 1 && head[1] <= 5 || name.hasSuffix(".pkl") {
                    var scanner = PickleScanner(reader: reader)
                    audit.absorb(scanner.scanAll(), member: name)
                }
            }
        } catch let error as ModelPackError {
            audit.issue(.invalidHeader, "the 7z archive is damaged: \(error)")
        }
        audit.detail("members", String(count))
    }

    static func auditZip(_ file: String, size: Int64, into audit: inout ArtifactAudit) throws {
        let zip: ZipView
        do {
            zip = try ZipView(path: file, size: size)
        } catch let error as ZipView.Malformed {
            audit.issue(.invalidHeader, "a zip that cannot be read as loaders read it: \(error.reason)")
            return
        }
        let names = zip.members.map(\.name)
        if names.contains(where: { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }) {
            audit.format = .pytorchZip
        } else if names.contains("config.json")
            && (names.contains("metadata.json") || names.contains { $0.hasSuffix(".weights.h5") })
        {
            audit.format = .keras
        } else if !names.isEmpty && names.allSatisfy({ $0.hasSuffix(".npy") }) {
            audit.format = .npz
        }
        audit.detail("members", String(zip.members.count))
        for member in zip.members where member.size > 0 {
            let reader = try zip.reader(for: member)
            let head = try reader.peek(16)
            if head.starts(with: [0x80]) && head.count > 1 && head[1] <= 5 || member.name.hasSuffix(".pkl") {
                var scanner = PickleScanner(reader: reader)
                audit.absorb(scanner.scanAll(), member: member.name)
            } else if head.starts(with: [0x93] + Array("NUMPY".utf8)) {
                try auditNPY(reader, into: &audit, member: member.name)
            } else if audit.format == .pytorchZip && (member.name == "version" || member.name.hasSuffix("/version")) {
                // All torch.save records of itself: the serialization format, not the torch release.
                let text = String(decoding: try reader.bytes(min(member.size, 16), keepingAtMost: 16), as: UTF8.self)
                audit.detail("serialization format", text.trimmingCharacters(in: .whitespacesAndNewlines))
            } else if audit.format == .keras && member.name == "config.json" {
                KerasConfig.audit(
                    try reader.bytes(Int64(min(member.size, 64 << 20)), keepingAtMost: 64 << 20), into: &audit)
            }
        }
        if audit.format == .pytorchZip, let weights = audit.pickle?.stateDict { audit.weights = weights }
    }
}

extension Diagnostic {
    /// A finding that loading the artifact runs something: what makes its verdict dangerous, and
    /// all that `--allow-unsafe` lets through (never a truncated or otherwise unloadable file).
    var saysLoadingRunsSomething: Bool {
        code == .dangerousImport || (code == .pickleAnomaly && severity == .error) || code == .codeInModel
            || code == .externalData
    }
}
