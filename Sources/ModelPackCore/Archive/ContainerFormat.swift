/// The archive containers a bundle can be written in.
package enum ContainerFormat: String, CaseIterable, Sendable {
    case zip
    case tar
    case tarGz = "tar.gz"
    case tarZst = "tar.zst"

    /// The container named by an output file's extension, if any.
    package static func fromExtension(of path: String) -> ContainerFormat? {
        let lower = path.lowercased()
        if lower.hasSuffix(".tar.gz") || lower.hasSuffix(".tgz") { return .tarGz }
        if lower.hasSuffix(".tar.zst") || lower.hasSuffix(".tzst") { return .tarZst }
        if lower.hasSuffix(".tar") { return .tar }
        if lower.hasSuffix(".zip") { return .zip }
        return nil
    }

    /// Picks the container from `--format` if given, else from the output's extension.
    /// A format that contradicts the extension is a usage error, not a silent choice.
    package static func resolve(requested: String?, output: String) throws -> ContainerFormat {
        let byExtension = fromExtension(of: output)
        guard let requested else {
            guard let byExtension else {
                throw ModelPackError.usage(
                    "cannot tell the container from '\(output)': use a .zip, .tar, .tar.gz or .tar.zst name, or \(CommandFlag.container)"
                )
            }
            return byExtension
        }
        guard let format = ContainerFormat(rawValue: requested.lowercased()) else {
            throw ModelPackError.usage(
                "unknown container '\(requested)' (expected one of: zip, tar, tar.gz, tar.zst)")
        }
        if let byExtension, byExtension != format {
            throw ModelPackError.usage(
                "\(CommandFlag.container) \(format.rawValue) contradicts the extension of '\(output)' (\(byExtension.rawValue))"
            )
        }
        return format
    }
}
