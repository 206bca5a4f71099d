import Foundation

/// One input through one parser, as the libFuzzer driver (Tests/Fuzz) and the replay test run it.
/// Thrown errors are the parsers' way of refusing bad input and are ignored; what a fuzzer looks
/// for is a crash, a hang, an unbounded allocation, or a broken invariant (which traps here).
enum FuzzEntry {
    enum Target: String, CaseIterable, Sendable {
        case pickle, yaml, requirements, manifest, archive, safetensors, onnx, gguf, artifact
    }

    /// The run every input goes through: the default limits, and no Python (one process per input
    /// is slow, and the fuzzer's timer signals interrupt it).
    static let context = RunContext(python: nil)

    static func run(_ target: Target, _ bytes: [UInt8]) {
        let limits = context.limits
        switch target {
        case .pickle:
            var scanner = PickleScanner(reader: ByteReader(bytes: bytes), limits: limits.pickle)
            _ = scanner.scanAll()
        case .yaml:
            var collector = DiagnosticCollector()
            _ = FileChecks.checkMetadata(bytes, limits: limits.yaml, into: &collector)
        case .requirements:
            let source = ModelSource(
                sizes: [ModelDirectory.requirementsFile: Int64(bytes.count)],
                texts: [ModelDirectory.requirementsFile: bytes, "constraints.txt": bytes], isBundle: false)
            _ = FileChecks.run(source, context: context)
        case .manifest:
            // A manifest that decodes is canonical, so encoding it again gives the same bytes.
            if let manifest = try? Manifest.decode(bytes, bundle: "fuzz", maxPathBytes: limits.unpack.maxPathBytes) {
                precondition(manifest.canonicalBytes() == bytes, "a decoded manifest is not canonical")
            }
        case .archive:
            withFile(bytes) { path in
                _ = try? Verifier.verify(path, context: context)
                _ = try? ModelCheck.check(path, context: context)
            }
        case .safetensors:
            _ = try? TensorFormats.readSafetensors(ByteReader(bytes: bytes), size: Int64(bytes.count))
        case .onnx:
            var audit = ArtifactAudit(
                path: "model.onnx", size: Int64(bytes.count), format: .onnx, context: AuditContext(limits: limits))
            try? ONNXReader.audit(ByteReader(bytes: bytes), into: &audit)
        case .gguf:
            _ = try? TensorFormats.readGGUF(ByteReader(bytes: bytes))
        case .artifact:
            _ = try? ArtifactAuditor.audit(
                path: "model.bin", size: Int64(bytes.count), reader: ByteReader(bytes: bytes), filePath: nil,
                context: AuditContext(limits: limits))
        }
    }

    /// The archive readers need a file: one per process, rewritten for every input.
    private static func withFile(_ bytes: [UInt8], _ body: (String) -> Void) {
        let path = NSTemporaryDirectory() + "/modelpack-fuzz-\(getpid()).bundle"
        guard (try? Data(bytes).write(to: URL(fileURLWithPath: path))) != nil else { return }
        defer { unlink(path) }
        body(path)
    }
}
