import Foundation
import Testing

@testable import ModelPackCore

/// A temporary directory removed when released.
final class TempDir {
    let path: String

    init() {
        let base = FileManager.default.temporaryDirectory.path + "/modelpack-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    deinit { FileSystem.removeTree(path) }

    func file(_ relative: String) -> String { path + "/" + relative }

    /// Names in the directory (to check that nothing stray was left behind).
    func contents() -> [String] {
        ((try? FileSystem.listDirectory(path)) ?? []).sorted()
    }
}

enum Fixture {
    /// A model that passes `validate` with no error (and no warning but MP404 when it has no artifact).
    static let metadata = """
        name: test-model
        version: 0.1.0
        description: A test model.
        license: MIT
        authors: [modelpack tests]
        framework: {name: scikit-learn, version: 1.9.1}
        inputs:
          - {name: x, type: float}
        outputs:
          - {name: y, type: float}

        """
    static let requirements = "scikit-learn==1.9.1\n"
    static let interface = """
        class Model:
            def predict(self, rows):
                return [0.0 for _ in rows]


        def load_model():
            return Model()

        """

    /// Writes a model directory: the three required files and `extra` files (relative path -> bytes).
    static func model(at root: String, extra: [String: [UInt8]] = [:], order: [String]? = nil) throws {
        var files: [String: [UInt8]] = [
            "metadata.yaml": Array(metadata.utf8),
            "requirements.txt": Array(requirements.utf8),
            "interface.py": Array(interface.utf8),
        ]
        files.merge(extra) { $1 }
        for name in order ?? files.keys.sorted() {
            try write(files[name]!, to: root + "/" + name)
        }
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func read(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Deterministic pseudo-random bytes (incompressible).
    static func noise(_ count: Int, seed: UInt64 = 42) -> [UInt8] {
        var state = seed
        var out = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            out[i] = UInt8(truncatingIfNeeded: state >> 33)
        }
        return out
    }

    /// A model directory with nested folders, an executable, an empty file, a non-ASCII name, a
    /// multi-buffer incompressible artifact and a compressible one.
    static func richModel(at root: String) throws {
        try model(
            at: root,
            extra: [
                "weights/model.bin": noise(3 * StreamBuffer.size + 17),
                "weights/table.csv": Array(String(repeating: "1.0,2.0,3.0\n", count: 20_000).utf8),
                "tools/run.sh": Array("#!/bin/sh\necho hi\n".utf8),
                "empty.txt": [],
                "données/modèle é.json": Array("{\"a\": 1}".utf8),
            ])
        chmod(root + "/tools/run.sh", 0o755)
    }
}

/// Builds an archive entry by entry, for the hostile cases no honest build produces.
struct RawBundle {
    struct Entry {
        var header: ArchiveEntryHeader
        var data: [UInt8]
    }

    var format: ContainerFormat
    var entries: [Entry] = []

    init(format: ContainerFormat) { self.format = format }

    /// A manifest listing `files` (path -> bytes) with their true sizes and digests.
    static func manifest(for files: [(String, [UInt8])]) -> Manifest {
        let records = files.sorted { BundlePath.byteOrder($0.0, $1.0) }.map { path, bytes in
            FileRecord(
                path: path, role: FileRole.of(path), size: Int64(bytes.count),
                sha256: SHA256Stream.hex(of: bytes), executable: false)
        }
        return Manifest(formatVersion: 1, tool: "test", name: "hostile", version: "1", files: records)
    }

    static let requiredFiles: [(String, [UInt8])] = [
        ("interface.py", Array("def load_model(): pass\n".utf8)),
        ("metadata.yaml", Array("name: hostile\nversion: 1\n".utf8)),
        ("requirements.txt", Array("\n".utf8)),
    ]

    mutating func add(_ path: String, _ data: [UInt8], kind: ArchiveEntryHeader.Kind = .regular, size: Int64? = nil) {
        var header = ArchiveEntryHeader(path: path, kind: kind)
        header.size = size ?? Int64(data.count)
        entries.append(Entry(header: header, data: data))
    }

    mutating func addManifest(_ manifest: Manifest) {
        add(Manifest.entryPath, manifest.canonicalBytes())
    }

    /// Adds the manifest for `files` and then every file, honestly.
    mutating func addHonest(_ files: [(String, [UInt8])]) {
        addManifest(Self.manifest(for: files))
        for (path, data) in files { add(path, data) }
    }

    func write(to path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        defer { close(fd) }
        let writer = try ArchiveWriter(fd: fd, path: path, format: format)
        for entry in entries {
            try writer.begin(entry.header)
            if !entry.data.isEmpty { try entry.data.withUnsafeBytes { try writer.write($0) } }
            try writer.finishEntry()
        }
        try writer.close()
    }
}

/// Runs the built `modelpack` binary.
enum CLI {
    static var binary: String {
        // swift test puts the test bundle and the executables in the same build folder.
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("modelpack").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/modelpack").path
    }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(
        _ arguments: [String], environment: [String: String] = [:], cwd: String? = nil,
        executable: String? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        process.environment = env
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        // stderr goes to a file: read after stdout, a pipe would block a child that writes more
        // than a pipe holds to stderr before closing stdout (pip, Spark and Ray do).
        let errPath = NSTemporaryDirectory() + "modelpack-stderr-" + UUID().uuidString
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let out = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try err.close()
        let errData = try Data(contentsOf: URL(fileURLWithPath: errPath))
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

extension CLI {
    /// Runs the CLI on a pseudo-terminal (util-linux `script`), as a user at a terminal would;
    /// stdout and stderr come back together.
    static func onTerminal(_ arguments: [String], environment: [String: String] = [:]) throws -> (
        status: Int32, output: String
    ) {
        let script = try #require(FileSystem.executableOnPath("script"), "util-linux script is not installed")
        let command = ([binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = ["-qec", command, "/dev/null"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

extension ContainerFormat {
    var fileExtension: String { rawValue }
}

extension EnvironmentCheck {
    /// The environment check with requirements.txt given as its text.
    static func run(
        _ audits: [ArtifactAudit], texts: [String: [UInt8]], paths: [String], into collector: inout DiagnosticCollector
    ) {
        var reader = RequirementsReader(readFile: { texts[$0] }, collector: DiagnosticCollector())
        reader.read(ModelDirectory.requirementsFile)
        check(audits, requirements: reader.result, bundleModules: AuditContext.modules(in: paths), into: &collector)
    }
}

extension TempDir {
    static func listing(_ path: String) -> [String] {
        ((try? FileSystem.listDirectory(path)) ?? []).sorted()
    }

    /// Every file under `root` (links too, never followed) as relative paths, depth first, each
    /// directory in sorted order.
    static func files(under root: String, _ relative: String = "") -> [String] {
        var out: [String] = []
        for name in listing(root + (relative.isEmpty ? "" : "/" + relative)) {
            let path = relative.isEmpty ? name : relative + "/" + name
            if (try? FileSystem.lstatInfo(root + "/" + path))??.kind == .directory {
                out += files(under: root, path)
            } else {
                out.append(path)
            }
        }
        return out
    }
}

/// The Python references (packaging, jsonschema, pip...) the tests compare with.
enum PythonOracle {
    static var required: Bool { ProcessInfo.processInfo.environment["MODELPACK_REQUIRE_ORACLES"] == "1" }

    static func available(_ modules: [String]) -> Bool {
        guard let python = PythonCompiler.find() else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import " + modules.joined(separator: ", ")]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    static func run(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(PythonCompiler.find()))
        process.arguments = [script] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// Golden files: generated text compared with a committed copy, re-recorded with RECORD=1.
enum Golden {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func assert(_ actual: String, _ name: String) throws {
        let url = fixtures.appendingPathComponent("golden/" + name)
        if ProcessInfo.processInfo.environment["RECORD"] == "1" {
            // A recording run is never green: it says what it wrote, and the next run checks it.
            let old = try? Data(contentsOf: url)
            try Data(actual.utf8).write(to: url)
            Issue.record(
                "RECORD=1: \(name) \(old == Data(actual.utf8) ? "unchanged" : "re-recorded"); run again without RECORD")
            return
        }
        let expected = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        if actual != expected {
            let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let line = Array(zip(a, e)).firstIndex { $0 != $1 } ?? min(a.count, e.count)
            Issue.record(
                """
                \(name) differs from its golden file at line \(line + 1) (RECORD=1 re-records):
                - expected: \(line < e.count ? String(e[line]) : "<end>")
                + actual:   \(line < a.count ? String(a[line]) : "<end>")
                """)
        }
    }
}

/// Where `needle` first occurs in `haystack` (to damage a byte of a file inside an archive).
func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
    let first = needle[0]
    var i = 0
    while i <= haystack.count - needle.count {
        if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
        i += 1
    }
    return nil
}

/// Reads a zip's central directory (test-side, independent of libarchive).
enum ZipCentralDirectory {
    struct Entry {
        let name: String
        let method: UInt16
        let dataOffset: Int
        let compressedSize: Int
        /// Where its central directory record and its local header begin.
        let centralOffset: Int
        let localOffset: Int
    }

    static func entries(of path: String) throws -> [Entry] {
        let bytes = try Fixture.read(path)
        func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        var eocd = bytes.count - 22
        while eocd > 0 && u32(eocd) != 0x06054b50 { eocd -= 1 }
        var offset = u32(eocd + 16)
        var result: [Entry] = []
        for _ in 0..<u16(eocd + 10) {
            let nameLength = u16(offset + 28), extra = u16(offset + 30), comment = u16(offset + 32)
            let name = String(decoding: bytes[(offset + 46)..<(offset + 46 + nameLength)], as: UTF8.self)
            let local = u32(offset + 42)
            let dataOffset = local + 30 + u16(local + 26) + u16(local + 28)
            result.append(
                Entry(
                    name: name, method: UInt16(u16(offset + 10)), dataOffset: dataOffset,
                    compressedSize: u32(offset + 20), centralOffset: offset, localOffset: local))
            offset += 46 + nameLength + extra + comment
        }
        return result
    }

    static func methods(of path: String) throws -> [String: UInt16] {
        Dictionary(uniqueKeysWithValues: try entries(of: path).map { ($0.name, $0.method) })
    }
}

extension RunContext {
    /// The run of an in-process test: default limits, no log, python3 on PATH for the compile check.
    static let test = RunContext()
}

extension ScanResult {
    /// The audits and the findings, to take apart in one `let`.
    var pair: ([ArtifactAudit], DiagnosticReport) { (audits, findings) }
}
