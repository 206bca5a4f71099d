/// The ML-BOM `bom` made, and where it wrote it (nil: to be shown).
package struct BOMResult: Sendable {
    package let model: String
    /// The CycloneDX 1.6 JSON document.
    package let document: String
    package let output: String?
}

extension Operations {
    /// `bom`: the CycloneDX ML-BOM of a bundle, a directory or a registry reference, from the one
    /// check pipeline's verdict; written to `output` through a temporary file when one is given.
    package static func bom(
        _ model: String, output: String? = nil, registry: RegistryOptions = RegistryOptions(), context: RunContext
    ) throws -> BOMResult {
        let document: String
        if ImageReference.looksLikeReference(model, pathExists: FileSystem.exists(model)) {
            document = try withPulledBundle(try ImageReference(parsing: model), registry: registry, context: context) {
                bundle, _ in try MLBOM.document(try ModelCheck.check(bundle, context: context))
            }
        } else {
            document = try MLBOM.document(try ModelCheck.check(model, context: context))
        }
        if let output { try writeText(document, to: output) }
        return BOMResult(model: model, document: document, output: output)
    }
}
