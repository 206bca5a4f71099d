import Foundation

/// The one rule for a path inside a bundle, applied both when building (so that every bundle can be
/// unpacked anywhere) and when unpacking (so that no entry can land outside its folder):
/// relative, `/`-separated, UTF-8; no empty, `.` or `..` component; no backslash, control
/// character or NUL; no drive letter; components of at most 255 bytes and the whole at most 1024
/// (`Limits.maxPathBytes`, raised with --max-path-length).
enum BundlePath {
    static let maxComponentBytes = 255

    /// Why `path` is not acceptable, or nil when it is.
    static func problem(with path: String) -> String? {
        if path.isEmpty { return "empty path" }
        let bytes = Array(path.utf8)
        let maxPathBytes = Limits.current.maxPathBytes
        if bytes.count > maxPathBytes {
            return "path longer than \(maxPathBytes) bytes (raise the limit with --max-path-length)"
        }
        if bytes.first == UInt8(ascii: "/") { return "absolute path" }
        if bytes.contains(UInt8(ascii: "\\")) { return "backslash in path" }
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7f }) { return "control character in path" }
        if bytes.count >= 2, bytes[1] == UInt8(ascii: ":"),
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[0] | 0x20)
        {
            return "drive-letter path"
        }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            switch component {
            case "": return "empty path component"
            case ".", "..": return "'\(component)' path component"
            default:
                if component.utf8.count > maxComponentBytes {
                    return "path component longer than \(maxComponentBytes) bytes"
                }
            }
        }
        return nil
    }

    /// The key under which two paths would collide on a case-insensitive or normalising file
    /// system (macOS, Windows): Unicode NFC, lower-cased.
    static func collisionKey(_ path: String) -> String {
        path.precomposedStringWithCanonicalMapping.lowercased()
    }

    /// Byte-wise ordering (Swift's `<` on String compares by Unicode scalars after normalisation,
    /// which is not what a sorted archive should depend on).
    static func byteOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
