/// Text that comes from a registry (annotations, config fields, error bodies, names in its
/// manifests) as modelpack prints it: control characters escaped (`\x1b`, `\n`), so an answer can
/// neither draw on the terminal (a refusal shown as a green "pulled") nor add lines of its own.
enum RegistryText {
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x00..<0x20, 0x7F..<0xA0, 0x2028, 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += scalar.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" : "") + hex : "\\u{" + hex + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// An optional text, escaped.
    static func escaped(_ text: String?) -> String? { text.map(escaped) }
}
