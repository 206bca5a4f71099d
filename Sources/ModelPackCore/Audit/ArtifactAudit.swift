import Foundation

/// One key fact about an artifact, for the inspect table ("tensors": "291").
package struct AuditDetail: Codable, Equatable, Sendable {
    package let key: String
    package let value: String
}

/// What the audit found in one artifact.
package struct ArtifactAudit: Sendable {
    package let path: String
    package internal(set) var size: Int64
    package internal(set) var format: ArtifactFormat
    package internal(set) var details: [AuditDetail] = []
    package internal(set) var diagnostics: [Diagnostic] = []
    /// Everything the pickles of this artifact (all members, all concatenated pickles) do.
    package internal(set) var pickle: PickleScanResult?
    /// An ONNX model's graph inputs and outputs.
    package internal(set) var graph: ONNXGraph?
    /// A weights file's tensors (safetensors, in the order of their data; a PyTorch state dict, in
    /// its order).
    package internal(set) var weights: Weights?
    /// The modules the model ships or trusts, against which unknown imports are judged.
    let context: AuditContext

    init(path: String, size: Int64, format: ArtifactFormat, context: AuditContext) {
        self.path = path
        self.size = size
        self.format = format
        self.context = context
    }

    /// How the artifact's bytes were wrapped: the compressed streams read through to reach them,
    /// outermost first (a joblib file saved with `compress=3` is `[zlib]`).
    package internal(set) var compression: [StreamCompression] = []

    /// Dangerous when a finding says loading runs something known to be harmful; unknown when any
    /// other error, a finding to review, or bytes the audit did not read remain (a truncated,
    /// unreadable or unparsed file is never safe); else safe: read to its end and understood.
    package var verdict: ImportVerdict {
        if diagnostics.contains(where: { $0.saysLoadingRunsSomething && $0.code != .unvettedCall }) {
            return .dangerous
        }
        if diagnostics.contains(where: {
            $0.severity == .error
                || [.unknownImport, .pickleAnomaly, .pickleBroken, .objectArray, .notAudited].contains($0.code)
        }) {
            return .unknown
        }
        return .safe
    }

    /// Whether loading it runs something the audit could not vouch for: what `--allow-unsafe` must
    /// let through, and what the manifest's `allowedUnsafe` then lists.
    package var runsSomething: Bool { diagnostics.contains(where: \.saysLoadingRunsSomething) }

    /// Why the audit did not read all of it, when it did not (MP515).
    package var unread: String? { diagnostics.first { $0.code == .notAudited }?.message }

    mutating func detail(_ key: String, _ value: String) { details.append(AuditDetail(key: key, value: value)) }

    /// Bytes the audit did not read or understand: never safe (MP515, with the reason); an error
    /// when the file's name says it is a pickle, which loading would run unread.
    mutating func notRead(_ reason: String, member: String? = nil) {
        let pickleName = ArtifactFormat.namesAPickle(member ?? path)
        issue(
            .notAudited,
            (member.map { "\($0): " } ?? "") + "not audited: " + reason
                + (pickleName ? "; its name says it is a pickle, which loading would run unread" : ""),
            severity: pickleName ? .error : nil)
    }

    /// Makes the findings of bytes the audit did not read errors: the model's code may unpickle
    /// them (`why` says where).
    mutating func loadedByPickle(_ why: String) {
        diagnostics = diagnostics.map { d in
            guard d.code == .notAudited, d.severity != .error else { return d }
            return Diagnostic(
                d.code, d.message + "; " + why, file: d.file, line: d.line, column: d.column,
                hint: "make it a format the audit reads, or load it with a loader that runs no code",
                severity: .error)
        }
    }

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
            } else if context.accepts(module: i.module, name: i.name) != nil {
                continue
            } else if scan.invoked.contains(i.qualifiedName) {
                issue(
                    .unvettedCall,
                    "\(prefix)calls \(i.qualifiedName) at byte \(i.offset)\(why), which is not on the allowlist: loading runs it",
                    hint:
                        "ship its module in the bundle, or name it under trusted_modules in metadata.yaml once reviewed; if it is a library's own reconstruction, report it"
                )
            } else {
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
        merged.invoked.formUnion(scan.invoked)
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
package enum ArtifactAuditor {
    /// Audits one artifact; a file that ends inside its own header is a finding, not an error.
    static func audit(
        path: String, size: Int64, reader: ByteReader, filePath: String?, context: AuditContext
    ) throws -> ArtifactAudit {
        try audit(path: path, size: size, reader: reader, filePath: filePath, context: context, depth: 0)
    }

    /// How many compressed streams deep an artifact is followed (a gzip of a zlib stream is two).
    static let maxCompressionDepth = 3

    private static func audit(
        path: String, size: Int64?, reader: ByteReader, filePath: String?, context: AuditContext, depth: Int
    ) throws -> ArtifactAudit {
        do {
            return try auditContent(
                path: path, size: size, reader: reader, filePath: filePath, context: context, depth: depth)
        } catch is ByteReader.EndOfData {
            var audit = ArtifactAudit(path: path, size: size ?? 0, format: .binary, context: context)
            audit.issue(.artifactTruncated, "the file ends inside its own header (truncated)")
            return audit
        }
    }

    /// `size` is nil for the content of a compressed stream, whose length is known only at its end.
    private static func auditContent(
        path: String, size: Int64?, reader: ByteReader, filePath: String?, context: AuditContext, depth: Int
    ) throws -> ArtifactAudit {
        let head = try reader.peek(4096)
        if let compression = StreamCompression.probe(head) {
            return try auditCompressed(
                compression, path: path, size: size, reader: reader, context: context, depth: depth)
        }
        // Decompressed content has no length until its end: told by what was seen.
        let format = ArtifactFormat.detect(head: head, size: size ?? Int64(head.count) + 1, name: path)
        if size == nil, ![.pickle, .npy, .gguf, .json, .csv, .text].contains(format) {
            // A format that must see the whole, with its length (zip, ONNX, safetensors): spooled
            // to a private temporary file first, then read as a file is.
            return try withRandomAccess(reader: reader, filePath: nil) { file, length in
                let input = try InputFile(path: file)
                return try Self.audit(
                    path: path, size: length, reader: ByteReader { try input.read(into: $0) }, filePath: file,
                    context: context, depth: depth)
            }
        }
        var audit = ArtifactAudit(path: path, size: size ?? 0, format: format, context: context)
        switch audit.format {
        case .pickle:
            var scanner = PickleScanner(reader: reader, limits: audit.context.limits.pickle)
            let scan = scanner.scanAll()
            if scan.imports.contains(where: { $0.module.hasPrefix("joblib.") }) { audit.format = .joblib }
            audit.detail("protocol", scan.protocols.map(String.init).joined(separator: ","))
            audit.detail("pickles", String(scan.pickles))
            if scan.arrayBytes > 0 { audit.detail("array data", ByteCount.human(scan.arrayBytes)) }
            audit.absorb(scan)
        case .pytorchLegacy:
            var limits = audit.context.limits.pickle
            limits.maxPickles = 5  // magic, protocol, sys info, the model, storage keys; raw storage data follows
            var scanner = PickleScanner(reader: reader, limits: limits)
            audit.absorb(scanner.scanAll())
        case .npy:
            try auditNPY(reader, into: &audit, member: nil)
        case .safetensors:
            let (details, issues, tensors) = try TensorFormats.readSafetensors(reader, size: audit.size)
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
            try withRandomAccess(reader: reader, filePath: filePath) { file, _ in
                try auditZip(file, size: audit.size, into: &audit)
            }
        case .onnx:
            try ONNXReader.audit(reader, into: &audit)
        case .hdf5:
            audit.notRead("HDF5 is not parsed (a Keras .h5 model config can hold Lambda layers: CVE-2025-9905)")
        case .savedModel:
            audit.notRead("a TensorFlow SavedModel graph is not parsed (its ops can read and write files)")
        case .sevenZip:
            // nullifAI hid a payload in a 7z: its pickle members are scanned; the rest is not read.
            try withRandomAccess(reader: reader, filePath: filePath) { file, _ in
                try auditSevenZip(file, into: &audit)
            }
        case .binary:
            audit.notRead("binary data of no format the audit knows")
        case .json, .csv, .text, .empty, .pytorchZip, .joblib, .npz, .keras:
            break
        }
        return audit
    }

    /// A compressed artifact, audited as what it holds, with every check of that format.
    private static func auditCompressed(
        _ compression: StreamCompression, path: String, size: Int64?, reader: ByteReader, context: AuditContext,
        depth: Int
    ) throws -> ArtifactAudit {
        let stream = StreamDecompressor(compression, upstream: reader, limits: context.limits.unpack)
        let inner = stream.reader()
        guard try !inner.isAtEnd else {
            var audit = ArtifactAudit(path: path, size: size ?? 0, format: .empty, context: context)
            audit.compression = [compression]
            if let problem = stream.problem { audit.notRead("a \(compression.rawValue) stream: \(problem)") }
            return audit
        }
        guard depth < maxCompressionDepth else {
            var audit = ArtifactAudit(path: path, size: size ?? 0, format: .binary, context: context)
            audit.compression = [compression]
            audit.notRead("compressed streams nested more than \(maxCompressionDepth) deep")
            return audit
        }
        var audit = try Self.audit(
            path: path, size: nil, reader: inner, filePath: nil, context: context, depth: depth + 1)
        audit.compression.insert(compression, at: 0)
        if let size { audit.size = size }
        if depth == 0 {
            audit.detail("compression", audit.compression.map(\.rawValue).joined(separator: " in "))
        }
        // What the format read may stop short of the stream's end: the loader reads on.
        if stream.problem == nil, try !inner.isAtEnd {
            audit.notRead(
                "data after what the \(audit.format.rawValue) content holds, inside the \(compression.rawValue) stream")
        }
        if let problem = stream.problem {
            audit.notRead(
                "the \(compression.rawValue) stream is read up to byte \(stream.produced) of its content: \(problem)")
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
            switch header.hasObject {
            case true?:
                audit.issue(
                    .objectArray,
                    (member.map { "\($0): " } ?? "")
                        + "an object array: numpy.load(allow_pickle=True) unpickles it; its pickle is scanned")
                var scanner = PickleScanner(reader: reader, limits: audit.context.limits.pickle)
                audit.absorb(scanner.scanAll(), member: member)
            case false?:
                break
            case nil:
                audit.notRead(
                    "a dtype the audit does not understand (\(header.descr)): it may hold objects, which loading unpickles",
                    member: member)
            }
        }
    }

    /// Runs `body` with a file path for the artifact and its length: its own, or a private
    /// temporary copy of the stream (removed after).
    @discardableResult
    static func withRandomAccess<T>(
        reader: ByteReader, filePath: String?, _ body: (String, Int64) throws -> T
    ) throws -> T {
        if let filePath { return try body(filePath, try FileSystem.lstatInfo(filePath)?.size ?? 0) }
        var template = Array((NSTemporaryDirectory() + "/modelpack-audit-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw ModelPackError.io(path: NSTemporaryDirectory(), reason: "cannot create a temporary file")
        }
        let path = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        close(fd)
        unlink(path)
        defer { unlink(path) }
        var length: Int64 = 0
        do {
            let out = try OutputFile(creating: path, mode: 0o600)
            while true {
                let chunk = try reader.chunk(1 << 20)
                if chunk.isEmpty { break }
                try chunk.withUnsafeBytes { try out.write($0) }
                length += Int64(chunk.count)
            }
        }
        return try body(path, length)
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
                    var scanner = PickleScanner(reader: reader, limits: audit.context.limits.pickle)
                    audit.absorb(scanner.scanAll(), member: name)
                } else {
                    audit.notRead("a 7z member other than a pickle", member: name)
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
            let head = try reader.peek(4096)
            let format = ArtifactFormat.detect(head: head, size: member.size, name: member.name)
            if format == .pickle || format == .pytorchLegacy || member.name.hasSuffix(".pkl") {
                var scanner = PickleScanner(reader: reader, limits: audit.context.limits.pickle)
                audit.absorb(scanner.scanAll(), member: member.name)
            } else if format == .npy {
                try auditNPY(reader, into: &audit, member: member.name)
            } else if audit.format == .pytorchZip && (member.name == "version" || member.name.hasSuffix("/version")) {
                // All torch.save records of itself: the serialization format, not the torch release.
                let text = String(decoding: try reader.bytes(min(member.size, 16), keepingAtMost: 16), as: UTF8.self)
                audit.detail("serialization format", text.trimmingCharacters(in: .whitespacesAndNewlines))
            } else if audit.format == .keras && member.name == "config.json" {
                KerasConfig.audit(
                    try reader.bytes(Int64(min(member.size, 64 << 20)), keepingAtMost: 64 << 20), into: &audit)
            } else if let why = notUnderstood(member.name, format: format, in: audit.format) {
                audit.notRead(why, member: member.name)
            }
        }
        if audit.format == .pytorchZip, let weights = audit.pickle?.stateDict { audit.weights = weights }
    }

    /// Why a zip member (not a pickle, npy, or a file the format's own reader handles above) is not
    /// understood; nil for data no loader runs: text, and the raw members of the formats it knows
    /// (PyTorch's storages, Keras' weights and assets).
    static func notUnderstood(_ name: String, format: ArtifactFormat, in container: ArtifactFormat) -> String? {
        if [.json, .csv, .text, .empty].contains(format) { return nil }
        let parts = name.split(separator: "/").map(String.init)
        switch container {
        case .pytorchZip:
            // `ARCHIVE/data/N` storages, `ARCHIVE/byteorder`, `ARCHIVE/.data/...`: raw bytes torch
            // reads into tensors. TorchScript's `code/` is run by torch.jit.load.
            if parts.count == 3, parts[1] == "data", parts[2].allSatisfy(\.isNumber) { return nil }
            if parts.count >= 2, parts[1] == ".data" || parts.last == "byteorder" { return nil }
            if parts.dropFirst().first == "code" {
                return "TorchScript code, which torch.jit.load runs, is not audited"
            }
        case .keras:
            if format == .hdf5 || parts.first == "assets" { return nil }  // weights read by h5py; assets as data
        default:
            break
        }
        return "a zip member of no format the audit knows (\(format.rawValue))"
    }
}

extension Diagnostic {
    /// A finding that loading the artifact runs something: what makes its verdict dangerous, and
    /// all that `--allow-unsafe` lets through (never a truncated or otherwise unloadable file).
    var saysLoadingRunsSomething: Bool {
        code == .dangerousImport || (code == .pickleAnomaly && severity == .error) || code == .codeInModel
            || code == .externalData || code == .unvettedCall
    }
}
