import Foundation

/// The one rule for a path inside a bundle, applied both when building (so that every bundle can be
/// unpacked anywhere) and when unpacking (so that no entry can land outside its folder):
/// relative, `/`-separated, UTF-8; no empty, `.` or `..` component; no backslash, control
/// character or NUL; no drive letter; components of at most 255 bytes and the whole at most 1024
/// (`UnpackLimits.maxPathBytes`, raised with --max-path-length); no Python bytecode.
enum BundlePath {
    static let maxComponentBytes = 255

    /// Why `path` is not acceptable, or nil when it is; `maxPathBytes` is the limit the run was
    /// given (`UnpackLimits.maxPathBytes`, --max-path-length).
    static func problem(with path: String, maxPathBytes: Int) -> String? {
        // One pass over the bytes, allocating nothing: build and unpack ask this of every path.
        var path = path
        return path.withUTF8 { bytes in
            if bytes.isEmpty { return "empty path" }
            if bytes.count > maxPathBytes {
                return "path longer than \(maxPathBytes) bytes (raise the limit with \(CommandFlag.maxPathLength))"
            }
            if bytes[0] == UInt8(ascii: "/") { return "absolute path" }
            var backslash = false
            var control = false
            var component: String?  // the first component's problem
            var componentStart = 0
            for index in 0...bytes.count {
                let byte = index < bytes.count ? bytes[index] : UInt8(ascii: "/")
                if byte == UInt8(ascii: "\\") { backslash = true }
                if byte < 0x20 || byte == 0x7f { control = true }
                guard byte == UInt8(ascii: "/"), component == nil else { continue }
                let name = UnsafeBufferPointer(rebasing: bytes[componentStart..<index])
                componentStart = index + 1
                if name.isEmpty {
                    component = "empty path component"
                } else if name.count <= 2 && name.allSatisfy({ $0 == UInt8(ascii: ".") }) {
                    component = "'\(String(decoding: name, as: UTF8.self))' path component"
                } else if name.count > maxComponentBytes {
                    component = "path component longer than \(maxComponentBytes) bytes"
                }
            }
            if backslash { return "backslash in path" }
            if control { return "control character in path" }
            if bytes.count >= 2, bytes[1] == UInt8(ascii: ":"),
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[0] | 0x20)
            {
                return "drive-letter path"
            }
            if let component { return component }
            return bytecode(bytes)
        }
    }

    /// Python bytecode: a `__pycache__` folder or a `.pyc`/`.pyo` file. Python runs a cached
    /// `.pyc` (PEP 552's unchecked-hash kind without looking at the source) or a sourceless one
    /// instead of the `.py` the audit read, so no bundle holds any.
    private static func bytecode(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        // Letter case is folded: a case-insensitive file system finds `__PyCache__/x.PYC` too.
        let cache = Array("__pycache__".utf8)
        var start = 0
        for index in 0...bytes.count where index == bytes.count || bytes[index] == UInt8(ascii: "/") {
            if index - start == cache.count, zip(bytes[start..<index], cache).allSatisfy({ lowered($0) == $1 }) {
                return "Python bytecode (__pycache__): never packed, Python would run it instead of the audited source"
            }
            start = index + 1
        }
        if bytes.count >= 4, bytes[bytes.count - 4] == UInt8(ascii: "."),
            bytes[bytes.count - 3] | 0x20 == UInt8(ascii: "p"),
            bytes[bytes.count - 2] | 0x20 == UInt8(ascii: "y"),
            [UInt8(ascii: "c"), UInt8(ascii: "o")].contains(bytes[bytes.count - 1] | 0x20)
        {
            let suffix = String(decoding: bytes[(bytes.count - 4)...].map(lowered), as: UTF8.self)
            return "Python bytecode (\(suffix)): never packed, Python would run it instead of the audited source"
        }
        return nil
    }

    /// An ASCII letter in lower case; any other byte as it is.
    private static func lowered(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    /// The key under which two paths would collide on a case-insensitive or normalising file
    /// system (macOS, Windows): Unicode NFC, lower-cased.
    static func collisionKey(_ path: String) -> String {
        // ASCII is its own NFC form; Foundation's normalisation cost 5,000 small files 5% of a build.
        if path.utf8.allSatisfy({ $0 < 0x80 }) { return path.lowercased() }
        return path.precomposedStringWithCanonicalMapping.lowercased()
    }

    /// Byte-wise ordering (Swift's `<` on String compares by Unicode scalars after normalisation,
    /// which is not what a sorted archive should depend on).
    static func byteOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
