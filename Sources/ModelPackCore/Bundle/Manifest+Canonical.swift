import Foundation

extension Manifest {
    /// The canonical serialisation: UTF-8 JSON with a fixed key order, two-space indentation, one
    /// file per line, no escaped `/`, non-ASCII characters as themselves, and a final newline.
    /// modelpack writes exactly these bytes and reads only manifests that re-serialise to them, so
    /// the digest is a function of the content alone.
    package func canonicalBytes() -> [UInt8] {
        // Appended as bytes: 5,000 files built through String interpolation cost a small-file
        // build 7% of its time (perf), and build serialises its manifest more than once.
        var out: [UInt8] = []
        out.reserveCapacity(160 + files.count * 160)
        func add(_ text: StaticString) {
            text.withUTF8Buffer { out.append(contentsOf: $0) }
        }
        func add(_ text: String) { out.append(contentsOf: text.utf8) }
        add("{\n  \"formatVersion\": ")
        add(String(formatVersion))
        add(",\n  \"tool\": ")
        Self.quote(tool, into: &out)
        add(",\n  \"name\": ")
        Self.quote(name, into: &out)
        add(",\n  \"version\": ")
        Self.quote(version, into: &out)
        add(",\n")
        for (key, list) in [("allowedUnsafe", allowedUnsafe), ("trustedModules", trustedModules)] where !list.isEmpty {
            add("  \"" + key + "\": [")
            for (index, item) in list.enumerated() {
                if index > 0 { add(", ") }
                Self.quote(item, into: &out)
            }
            add("],\n")
        }
        add("  \"files\": [")
        for (index, file) in files.enumerated() {
            add(index == 0 ? "\n    {\"path\": " : ",\n    {\"path\": ")
            Self.quote(file.path, into: &out)
            add(", \"role\": \"")
            add(file.role.rawValue)
            add("\", \"size\": ")
            add(String(file.size))
            add(", \"sha256\": \"")
            add(file.sha256)
            add(file.executable ? "\", \"executable\": true}" : "\", \"executable\": false}")
        }
        add(files.isEmpty ? "]\n}\n" : "\n  ]\n}\n")
        return out
    }

    /// `text` as a JSON string: `"` and `\\` escaped, control characters as escapes, everything
    /// else (including non-ASCII) as itself.
    static func quote(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20, 0x7f:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
            default: out.append(byte)  // UTF-8 bytes of other scalars never fall in the cases above
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Parses and checks a manifest read from `bundle`. Refuses anything but the canonical form of a
    /// well-formed manifest: an unknown version, extra keys, unsorted or duplicate paths, unportable
    /// paths, malformed digests, or a missing required file.
    static func decode(_ bytes: [UInt8], bundle: String, maxPathBytes: Int) throws -> Manifest {
        func refuse(_ reason: String) -> ModelPackError {
            .invalidBundle(path: bundle, reason: "manifest \(entryPath): \(reason)")
        }
        // The bytes modelpack writes parse in one pass over them; anything else (or anything that
        // does not re-serialise to the same bytes) goes through JSONDecoder, for its verdict.
        var parser = CanonicalParser(bytes)
        if let manifest = parser.manifest(), readableFormatVersions.contains(manifest.formatVersion),
            manifest.canonicalBytes() == bytes
        {
            return try manifest.checked(maxPathBytes: maxPathBytes, refuse)
        }
        struct VersionProbe: Decodable { let formatVersion: Int }
        let data = Data(bytes)
        guard let probe = try? JSONDecoder().decode(VersionProbe.self, from: data) else {
            throw refuse("not a modelpack manifest (invalid JSON or no formatVersion)")
        }
        guard readableFormatVersions.contains(probe.formatVersion) else {
            throw refuse(
                "format version \(probe.formatVersion) is not supported (this modelpack reads 1 and 2)")
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw refuse("malformed: \(Self.describe(error))")
        }
        guard manifest.canonicalBytes() == bytes else {
            throw refuse("not in canonical form (edited by hand, or unknown keys)")
        }
        return try manifest.checked(maxPathBytes: maxPathBytes, refuse)
    }

    /// The checks of a manifest in canonical form: its paths, sizes, digests, roles and required files.
    private func checked(maxPathBytes: Int, _ refuse: (String) -> ModelPackError) throws -> Manifest {
        try checkPaths(maxPathBytes: maxPathBytes, refuse)
        for required in ModelDirectory.requiredFiles where !files.contains(where: { $0.path == required }) {
            throw refuse("required file \(required) is not listed")
        }
        return self
    }

    /// Every record's path (`BundlePath`, outside .modelpack/, sorted, unique, no case collision, no
    /// file that is also a folder), size (not negative, a total that fits) and digest; what a
    /// manifest rebuilt from another tool's artifact must pass too.
    func checkPaths(maxPathBytes: Int, _ refuse: (String) -> ModelPackError) throws {
        let manifest = self
        var total: Int64 = 0
        var previous: String?
        var collisions: [String: String] = [:]
        for file in manifest.files {
            if let problem = BundlePath.problem(with: file.path, maxPathBytes: maxPathBytes) {
                throw refuse("'\(file.path)': \(problem)")
            }
            if file.path.hasPrefix(".modelpack/") {
                throw refuse("'\(file.path)' is inside the reserved .modelpack/ folder")
            }
            if let previous, !BundlePath.byteOrder(previous, file.path) {
                throw refuse(
                    previous == file.path ? "duplicate path '\(file.path)'" : "paths are not sorted at '\(file.path)'")
            }
            if let other = collisions.updateValue(file.path, forKey: BundlePath.collisionKey(file.path)) {
                throw refuse("'\(file.path)' and '\(other)' collide on case-insensitive file systems")
            }
            guard file.size >= 0 else { throw refuse("'\(file.path)' has a negative size") }
            let (sum, overflow) = total.addingReportingOverflow(file.size)
            guard !overflow, sum <= Int64(ByteReader.maxLength) else {
                throw refuse("'\(file.path)' has a size of \(file.size) bytes, past any the files can hold together")
            }
            total = sum
            guard file.sha256.utf8.count == 64, file.sha256.utf8.allSatisfy({ Self.isLowerHex($0) }) else {
                throw refuse("'\(file.path)' has a malformed sha256")
            }
            guard file.role == FileRole.of(file.path) else {
                throw refuse(
                    "'\(file.path)' has role \(file.role.rawValue), expected \(FileRole.of(file.path).rawValue)")
            }
            previous = file.path
        }
        let paths = Set(manifest.files.map(\.path))
        for file in manifest.files {
            var prefix = ""
            for component in file.path.split(separator: "/").dropLast() {
                prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
                if paths.contains(prefix) {
                    throw refuse("'\(prefix)' is both a file and the folder of '\(file.path)'")
                }
            }
        }
    }

    /// Reads the canonical form (`canonicalBytes`) and nothing else: nil at the first byte that
    /// differs from what modelpack writes there.
    struct CanonicalParser {
        let bytes: [UInt8]
        var at = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func manifest() -> Manifest? {
            guard literal("{\n  \"formatVersion\": "), let formatVersion = integer(), literal(",\n  \"tool\": "),
                let tool = string(), literal(",\n  \"name\": "), let name = string(),
                literal(",\n  \"version\": "), let version = string(), literal(",\n")
            else { return nil }
            var lists: [String: [String]] = [:]
            for key in ["allowedUnsafe", "trustedModules"] where literal("  \"" + key + "\": [") {
                var list: [String] = []
                repeat {
                    guard let item = string() else { return nil }
                    list.append(item)
                } while literal(", ")
                guard literal("],\n") else { return nil }
                lists[key] = list
            }
            guard literal("  \"files\": [") else { return nil }
            var files: [FileRecord] = []
            if !literal("]\n}\n") {
                repeat {
                    guard literal("\n    {\"path\": "), let path = string(),
                        literal(", \"role\": "), let role = string().flatMap(FileRole.init(rawValue:)),
                        literal(", \"size\": "), let size = integer(), literal(", \"sha256\": "),
                        let sha256 = string(), literal(", \"executable\": ")
                    else { return nil }
                    let executable = literal("true}")
                    guard executable || literal("false}") else { return nil }
                    files.append(
                        FileRecord(path: path, role: role, size: size, sha256: sha256, executable: executable))
                } while literal(",")
                guard literal("\n  ]\n}\n") else { return nil }
            }
            guard at == bytes.count, let format = Int(exactly: formatVersion) else { return nil }
            return Manifest(
                formatVersion: format, tool: tool, name: name, version: version,
                allowedUnsafe: lists["allowedUnsafe"] ?? [], trustedModules: lists["trustedModules"] ?? [],
                files: files)
        }

        private mutating func literal(_ text: String) -> Bool {
            let utf8 = text.utf8
            guard bytes.count - at >= utf8.count, bytes[at..<(at + utf8.count)].elementsEqual(utf8) else {
                return false
            }
            at += utf8.count
            return true
        }

        private mutating func integer() -> Int64? {
            let start = at
            if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
            while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1 }
            return Int64(String(decoding: bytes[start..<at], as: UTF8.self))
        }

        /// A string as `quote` writes it; the escapes it writes, no others.
        private mutating func string() -> String? {
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { return nil }
            at += 1
            var out: [UInt8] = []
            while at < bytes.count {
                let byte = bytes[at]
                at += 1
                switch byte {
                case UInt8(ascii: "\""): return String(validating: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard at < bytes.count else { return nil }
                    let escape = bytes[at]
                    at += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(escape)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard bytes.count - at >= 4,
                            let value = UInt8(String(decoding: bytes[at..<(at + 4)], as: UTF8.self), radix: 16)
                        else { return nil }
                        out.append(value)
                        at += 4
                    default: return nil
                    }
                case 0..<0x20, 0x7f: return nil
                default: out.append(byte)
                }
            }
            return nil
        }
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.dataCorrupted(let context):
            let location = context.codingPath.map(\.stringValue).joined(separator: ".")
            return location.isEmpty ? context.debugDescription : "\(location): \(context.debugDescription)"
        default: return "\(error)"
        }
    }
}
