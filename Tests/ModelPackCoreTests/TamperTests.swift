import Foundation
import Testing

@testable import ModelPackCore

/// A damaged bundle must fail `verify` (exit 1, or a refused manifest) and `unpack` (nothing written).
@Suite struct TamperTests {
    static let files: [String: [UInt8]] = [
        "weights.bin": Fixture.noise(300_000, seed: 7),
        "notes.txt": Array(String(repeating: "model notes line\n", count: 2_000).utf8),
    ]

    func makeBundle(_ tmp: TempDir, _ format: ContainerFormat) throws -> String {
        try Fixture.model(at: tmp.file("model"), extra: Self.files)
        let bundle = tmp.file("m.\(format.fileExtension)")
        _ = try Operations.build(
            BuildOptions(source: tmp.file("model"), output: bundle, format: format), context: .test)
        return bundle
    }

    /// Asserts that verify and unpack both catch the damage and unpack leaves nothing behind.
    func expectCaught(_ tmp: TempDir, _ bundle: String, _ what: Comment) {
        var caughtByVerify = false
        do {
            caughtByVerify = !(try Verifier.verify(bundle, context: .test).isValid)
        } catch is ModelPackError {
            caughtByVerify = true
        } catch {}
        #expect(caughtByVerify, what)
        #expect(throws: ModelPackError.self, what) {
            try Unpacker.unpack(bundle, to: tmp.file("out"), force: false, context: .test)
        }
        #expect(!FileSystem.exists(tmp.file("out")), what)
        #expect(!tmp.contents().contains { $0.hasPrefix(TemporaryOutput.prefix) }, what)
    }

    func flip(_ path: String, at offset: Int) throws {
        var bytes = try Fixture.read(path)
        bytes[offset] ^= 0x5a
        try Fixture.write(bytes, to: path)
    }

    /// The offsets of every entry's data: searched for in a plain tar, read from the central
    /// directory of a zip (stored and deflated data alike).
    func dataRanges(_ bundle: String, _ format: ContainerFormat, model: String) throws -> [(String, Range<Int>)] {
        if format == .zip {
            return try ZipCentralDirectory.entries(of: bundle).filter { $0.compressedSize > 0 }.map {
                ($0.name, $0.dataOffset..<($0.dataOffset + $0.compressedSize))
            }
        }
        let archive = try Fixture.read(bundle)
        let manifest = try BundleReader.inspect(bundle, limits: UnpackLimits()).manifest
        var ranges: [(String, Range<Int>)] = []
        for record in manifest.files where record.size > 0 {
            let content = try Fixture.read(model + "/" + record.path)
            let start = try #require(find(content, in: archive), "\(record.path) not found in tar")
            ranges.append((record.path, start..<(start + content.count)))
        }
        let manifestBytes = manifest.canonicalBytes()
        let start = try #require(find(manifestBytes, in: archive))
        ranges.append((Manifest.entryPath, start..<(start + manifestBytes.count)))
        return ranges
    }

    @Test(arguments: [ContainerFormat.tar, .zip])
    func flippingAByteInAnyEntryIsCaught(format: ContainerFormat) throws {
        let tmp = TempDir()
        let bundle = try makeBundle(tmp, format)
        let pristine = try Fixture.read(bundle)
        let ranges = try dataRanges(bundle, format, model: tmp.file("model"))
        #expect(ranges.count == 6)
        for (name, range) in ranges {
            try Fixture.write(pristine, to: bundle)
            try flip(bundle, at: range.lowerBound + range.count / 2)
            expectCaught(tmp, bundle, "flipped a byte in \(name)")
        }
    }

    @Test(arguments: [ContainerFormat.tarGz, .tarZst])
    func flippingAByteInACompressedStreamIsCaught(format: ContainerFormat) throws {
        let tmp = TempDir()
        let bundle = try makeBundle(tmp, format)
        let pristine = try Fixture.read(bundle)
        for fraction in [0.2, 0.4, 0.6, 0.8, 0.95] {
            try Fixture.write(pristine, to: bundle)
            try flip(bundle, at: Int(Double(pristine.count) * fraction))
            expectCaught(tmp, bundle, "flipped a byte at \(fraction)")
        }
    }

    @Test(arguments: ContainerFormat.allCases)
    func truncationIsCaught(format: ContainerFormat) throws {
        let tmp = TempDir()
        let bundle = try makeBundle(tmp, format)
        let pristine = try Fixture.read(bundle)
        // Cut inside the data (and, for zip and the compressed formats, near the end too, where the
        // central directory or the stream trailer lives).
        var cuts = [pristine.count / 10, pristine.count / 2]
        if format != .tar {
            cuts.append(pristine.count - 8)
        } else {
            cuts.append(try dataRanges(bundle, format, model: tmp.file("model")).map(\.1.upperBound).max()! - 10)
        }
        for cut in cuts {
            try Fixture.write(Array(pristine[..<cut]), to: bundle)
            expectCaught(tmp, bundle, "truncated to \(cut) of \(pristine.count) bytes")
        }
    }

    /// The one-pass reader of the canonical form (`Manifest.CanonicalParser`) gives back every
    /// manifest modelpack writes, and whenever it reads an edited manifest whose fields re-serialise
    /// to the same bytes, JSONDecoder (the reader of everything else) reads the same manifest: the
    /// two paths of `Manifest.decode` accept the same bytes with the same meaning.
    @Test func theCanonicalParserReadsWhatJSONDecoderReads() throws {
        func record(_ path: String, _ size: Int64, executable: Bool = false) -> FileRecord {
            FileRecord(
                path: path, role: FileRole.of(path), size: size, sha256: String(repeating: "ab", count: 32),
                executable: executable)
        }
        let odd = "q\"b\\n\nr\rt\tc\u{01}d\u{7f}é😀"
        let manifests = [
            Manifest(formatVersion: 2, tool: "modelpack 0.1.0", name: "m", version: "1", files: []),
            Manifest(
                formatVersion: 1, tool: odd, name: odd, version: "", allowedUnsafe: ["a.pkl", odd],
                trustedModules: ["x"], files: [record("a \"b\".bin", 0), record(odd, -3, executable: true)]),
            Manifest(
                formatVersion: 2, tool: "t", name: "n", version: "v", trustedModules: ["sklearn", "numpy"],
                files: [record("interface.py", 10), record("metadata.yaml", 20), record("requirements.txt", 3)]),
        ]
        for manifest in manifests {
            let bytes = manifest.canonicalBytes()
            var parser = Manifest.CanonicalParser(bytes)
            #expect(parser.manifest() == manifest)
            #expect(try JSONDecoder().decode(Manifest.self, from: Data(bytes)) == manifest)
            // Every one-byte edit: deleted, or replaced by a byte JSON gives meaning to.
            for i in bytes.indices {
                for replacement in [nil] + Array("\" \\,:}]0u".utf8).map(Optional.some) {
                    var edited = bytes
                    if let replacement { edited[i] = replacement } else { edited.remove(at: i) }
                    var parser = Manifest.CanonicalParser(edited)
                    guard let read = parser.manifest(), read.canonicalBytes() == edited else { continue }
                    #expect(try JSONDecoder().decode(Manifest.self, from: Data(edited)) == read, "byte \(i)")
                }
            }
        }
    }

    @Test func editingTheManifestIsCaught() throws {
        let tmp = TempDir()
        let bundle = try makeBundle(tmp, .tar)
        let pristine = try Fixture.read(bundle)
        let manifest = try BundleReader.inspect(bundle, limits: UnpackLimits()).manifest
        let record = try #require(manifest.files.first { $0.path == "notes.txt" })
        let edits: [(String, String, String)] = [
            ("a digest", record.sha256, String(record.sha256.dropLast()) + (record.sha256.hasSuffix("0") ? "1" : "0")),
            ("a size", "\"size\": \(record.size)", "\"size\": \(record.size - 1)"),
            ("the layout", "\"tool\": ", "\"tool\":  "),
        ]
        for (what, from, to) in edits {
            // Same-length edits keep the tar header's size valid; the layout edit replaces a space.
            var archive = pristine
            let start = try #require(find(Array(from.utf8), in: archive))
            var replacement = Array(to.utf8)
            if replacement.count != from.utf8.count {  // keep the length: drop the space after the colon of "name"
                replacement = Array(to.utf8)
                let nameKey = try #require(find(Array("\"name\": ".utf8), in: archive))
                archive.remove(at: nameKey + 7)
            }
            archive.replaceSubrange(start..<(start + from.utf8.count), with: replacement)
            try Fixture.write(archive, to: bundle)
            expectCaught(tmp, bundle, "edited \(what) in the manifest")
        }
    }
}

/// Unpack, verify and the audit read a plain tar's entries and a zip's stored members straight
/// from the file (`ArchiveReader.readDataDirectly`), not through libarchive: those reads must
/// judge a bundle exactly as libarchive's would, CRC-32 included, and must not be taken where the
/// local header does not confirm the central directory. (TamperTests' flips and cuts go through
/// the same reads.)
@Suite struct DirectReadTests {
    /// Which entries after the manifest were read directly.
    func directEntries(_ bundle: String) throws -> [String: Bool] {
        let (reader, _) = try BundleReader.open(bundle, limits: UnpackLimits())
        var seen: [String: Bool] = [:]
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while let entry = try reader.next() {
            seen[entry.path ?? "?"] = reader.readsCurrentEntryDirectly
            while try buffer.withUnsafeMutableBytes({ try reader.read(into: $0) }) > 0 {}
        }
        return seen
    }

    func build(_ tmp: TempDir, _ format: ContainerFormat) throws -> String {
        if !FileSystem.exists(tmp.file("model")) { try Fixture.model(at: tmp.file("model"), extra: TamperTests.files) }
        let bundle = tmp.file("m.\(format.fileExtension)")
        _ = try Operations.build(
            BuildOptions(source: tmp.file("model"), output: bundle, format: format), context: .test)
        return bundle
    }

    func makeBundle(_ tmp: TempDir) throws -> (bundle: String, weights: ZipCentralDirectory.Entry) {
        let bundle = try build(tmp, .zip)
        let weights = try #require(try ZipCentralDirectory.entries(of: bundle).first { $0.name == "weights.bin" })
        #expect(weights.method == 0)
        return (bundle, weights)
    }

    @Test func aPlainTarIsReadDirectlyAndACompressedOneThroughLibarchive() throws {
        let tmp = TempDir()
        for format in [ContainerFormat.tar, .tarGz, .tarZst] {
            let bundle = try build(tmp, format)
            let direct = try directEntries(bundle)
            #expect(direct.count == 5 && direct.values.allSatisfy { $0 == (format == .tar) }, "\(format): \(direct)")
            #expect(try Verifier.verify(bundle, context: .test).isValid)
            try Unpacker.unpack(bundle, to: tmp.file("out-\(format.fileExtension)"), force: false, context: .test)
            for (name, bytes) in TamperTests.files {
                #expect(try Fixture.read(tmp.file("out-\(format.fileExtension)/\(name)")) == bytes)
            }
        }
    }

    @Test func storedMembersAreReadDirectlyAndDeflatedOnesThroughLibarchive() throws {
        let tmp = TempDir()
        let (bundle, _) = try makeBundle(tmp)
        let methods = try ZipCentralDirectory.methods(of: bundle)
        let direct = try directEntries(bundle)
        #expect(direct["weights.bin"] == true)
        #expect(direct["notes.txt"] == false && methods["notes.txt"] == 8)
        #expect(try Verifier.verify(bundle, context: .test).isValid)
        try Unpacker.unpack(bundle, to: tmp.file("out"), force: false, context: .test)
        #expect(try Fixture.read(tmp.file("out/weights.bin")) == TamperTests.files["weights.bin"])
    }

    /// The bytes are intact and match the manifest, but the central directory's CRC-32 is wrong:
    /// libarchive and Python's zipfile (the serving runtime's reader) refuse such a member, so the
    /// direct read refuses it too, in libarchive's words.
    @Test func aWrongCRCIsRefusedAsLibarchiveWould() throws {
        let tmp = TempDir()
        let (bundle, weights) = try makeBundle(tmp)
        var bytes = try Fixture.read(bundle)
        bytes[weights.centralOffset + 16] ^= 0x01
        try Fixture.write(bytes, to: bundle)
        let result = try Verifier.verify(bundle, context: .test)
        #expect(!result.isValid)
        let check = try #require(result.files.first { $0.path == "weights.bin" })
        #expect(check.status == .truncated)
        #expect(check.detail?.contains("while reading 'weights.bin': ZIP bad CRC") == true, "\(check.detail ?? "")")
        #expect(throws: ModelPackError.self) {
            try Unpacker.unpack(bundle, to: tmp.file("out"), force: false, context: .test)
        }
        #expect(!FileSystem.exists(tmp.file("out")))
    }

    /// A local header that names the member differently, or says it is deflated, is not read
    /// directly: libarchive reads (and judges) it, as before.
    @Test(arguments: ["name", "method"])
    func aLocalHeaderThatDisagreesIsLeftToLibarchive(_ field: String) throws {
        let tmp = TempDir()
        let (bundle, weights) = try makeBundle(tmp)
        var bytes = try Fixture.read(bundle)
        if field == "name" { bytes[weights.localOffset + 30] ^= 0x20 } else { bytes[weights.localOffset + 8] = 8 }
        try Fixture.write(bytes, to: bundle)
        let direct = try? directEntries(bundle)
        #expect(direct?["weights.bin"] != true)
        let valid = (try? Verifier.verify(bundle, context: .test).isValid) ?? false
        #expect(!valid)
    }
}
