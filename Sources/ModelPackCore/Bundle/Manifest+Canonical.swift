import Foundation

extension Manifest {
    /// The canonical serialisation: UTF-8 JSON with a fixed key order, two-space indentation, one
    /// file per line, no escaped `/`, non-ASCII characters as themselves, and a final newline.
    /// modelpack writes exactly these bytes and reads only manifests that re-serialise to them, so
    /// the digest is a function of the content alone.
    public func canonicalBytes() -> [UInt8] {
        var out = "{\n"
        out += "  \"formatVersion\": \(formatVersion),\n"
        out += "  \"tool\": \(Self.quote(tool)),\n"
        out += "  \"name\": \(Self.quote(name)),\n"
        out += "  \"version\": \(Self.quote(version)),\n"
        if !allowedUnsafe.isEmpty {
            out += "  \"allowedUnsafe\": [" + allowedUnsafe.map(Self.quote).joined(separator: ", ") + "],\n"
        }
        if !trustedModules.isEmpty {
            out += "  \"trustedModules\": [" + trustedModules.map(Self.quote).joined(separator: ", ") + "],\n"
        }
        out += "  \"files\": ["
        for (index, file) in files.enumerated() {
            out += index == 0 ? "\n" : ",\n"
            out += "    {\"path\": \(Self.quote(file.path)), \"role\": \"\(file.role.rawValue)\", "
            out += "\"size\": \(file.size), \"sha256\": \"\(file.sha256)\", \"executable\": \(file.executable)}"
        }
        out += files.isEmpty ? "]\n" : "\n  ]\n"
        out += "}\n"
        return Array(out.utf8)
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Parses and checks a manifest read from `bundle`. Refuses anything but the canonical form of a
    /// well-formed manifest: an unknown version, extra keys, unsorted or duplicate paths, unportable
    /// paths, malformed digests, or a missing required file.
    static func decode(_ bytes: [UInt8], bundle: String) throws -> Manifest {
        func refuse(_ reason: String) -> ModelPackError {
            .invalidBundle(path: bundle, reason: "manifest \(entryPath): \(reason)")
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
        var previous: String?
        var collisions: [String: String] = [:]
        for file in manifest.files {
            if let problem = BundlePath.problem(with: file.path) {
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
            guard file.sha256.utf8.count == 64, file.sha256.utf8.allSatisfy({ isLowerHex($0) }) else {
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
        for required in ModelDirectory.requiredFiles where !manifest.files.contains(where: { $0.path == required }) {
            throw refuse("required file \(required) is not listed")
        }
        return manifest
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
