import Foundation
import Testing

@testable import ModelPackCore

/// The runtime the binary writes is the one in the repository, which Python's tools lint and test
/// (Tests/runtime): `make runtime-embed` regenerates Generated/ServingRuntime+Files.swift after an edit.
@Suite struct RuntimeEmbeddingTests {
    static let runtime = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/ModelPackCore/Serving/runtime")

    @Test func theEmbeddedCopyIsTheRepositorysFiles() throws {
        #expect(
            ServingRuntime.files.map(\.name) == [
                "server.py", "modelpack_inputs.py", "modelpack_predict.py", "modelpack_bundle.py",
                "modelpack_batch.py", "modelpack_smoke.py", "modelpack_keys.py", "requirements.txt",
                "requirements-spark.txt",
                "requirements-ray.txt",
            ])
        for file in ServingRuntime.files {
            let onDisk = try String(contentsOf: Self.runtime.appendingPathComponent(file.name), encoding: .utf8)
            #expect(file.text == onDisk, "\(file.name) differs from its embedded copy: run make runtime-embed")
        }
    }
}
