import Foundation
import Testing

@testable import ModelPackCore

/// What a crash or a full disk leaves behind: `build` and `unpack` are killed with SIGKILL at
/// random moments (MODELPACK_CRASH_POINTS, default 100 each; MODELPACK_CRASH_SEED repeats a run),
/// and after every kill the destination is absent or complete and verified; the next successful
/// run leaves no temporary file. A file-size limit and a full tmpfs give a one-line error and no
/// output at all.
@Suite(.serialized) struct CrashSafetyTests {
    static let environment = ProcessInfo.processInfo.environment
    static let points = Int(environment["MODELPACK_CRASH_POINTS"] ?? "") ?? 100

    /// A model with a 96 MiB incompressible artifact, so that a build or an unpack lasts long
    /// enough (about a second) for the kills to land in every phase.
    static func bigModel(at root: String) throws {
        try Fixture.model(at: root, extra: ["notes/readme.txt": Array("weights\n".utf8)])
        let random = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
        _ = FileManager.default.createFile(atPath: root + "/weights.bin", contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: root + "/weights.bin"))
        for _ in 0..<96 { out.write(random.readData(ofLength: 1 << 20)) }
        try out.close()
    }

    struct Kills {
        var generator: SplitMix
        var landed = 0
        var finished = 0

        init() {
            let seed =
                UInt64(CrashSafetyTests.environment["MODELPACK_CRASH_SEED"] ?? "") ?? UInt64.random(in: 1...1 << 40)
            print("crash test seed: \(seed) (MODELPACK_CRASH_SEED=\(seed) repeats it)")
            generator = SplitMix(seed: seed)
        }

        /// Starts `arguments`, kills it after a random delay in [0, limit), and waits for it.
        mutating func run(_ arguments: [String], within limit: TimeInterval) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let delay = Double(generator.next() % 1_000_000) / 1_000_000 * limit
            usleep(useconds_t(delay * 1_000_000))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                landed += 1
            }
            process.waitUntilExit()
            if process.terminationReason == .exit { finished += 1 }
        }
    }

    /// The shortest of three runs: kills are spread over it, so that they land while the
    /// operation runs even when the machine is busy and the first run was slow.
    static func shortest(_ arguments: [String], before: () -> Void = {}) throws -> TimeInterval {
        try (0..<3).map { _ in
            before()
            return try timed(arguments)
        }.min() ?? 0
    }

    static func timed(_ arguments: [String]) throws -> TimeInterval {
        let start = Date()
        let result = try CLI.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        return Date().timeIntervalSince(start)
    }

    static func temporaries(in directory: String) -> [String] {
        ((try? FileSystem.listDirectory(directory)) ?? []).filter { $0.hasPrefix(TemporaryOutput.prefix) }
    }

    @Test func killedBuildLeavesNothingOrAVerifiedBundle() throws {
        let tmp = TempDir()
        try Self.bigModel(at: tmp.file("model"))
        try FileSystem.makeDirectory(tmp.file("out"))
        let bundle = tmp.file("out/model.tar")
        let arguments = ["build", tmp.file("model"), "-o", bundle]
        let duration = try Self.shortest(arguments)
        var kills = Kills()
        for point in 0..<Self.points {
            // Half the kills hit a first build, half a rebuild over an existing bundle.
            if point % 2 == 0 { FileSystem.removeTree(bundle) }
            try kills.run(arguments, within: duration)
            if FileSystem.exists(bundle) {
                let report = try Verifier.verify(bundle, context: .test)
                #expect(report.isValid, "kill \(point): \(bundle) exists but does not verify")
            }
        }
        print(
            "build: \(kills.landed) of \(Self.points) kills hit a running build (\(String(format: "%.2f", duration)) s)"
        )
        #expect(kills.landed >= Self.points / 3, "too few kills landed during the build to test anything")
        _ = try Self.timed(arguments)
        #expect(Self.temporaries(in: tmp.file("out")).isEmpty)
        #expect(try Verifier.verify(bundle, context: .test).isValid)
    }

    /// A file that changes between the directory scan and its one read (here: grown, from the
    /// hook that starts the bundle) fails the build with one line naming it, and leaves no bundle
    /// and no temporary file; in the two-read path, a file whose bytes no longer match the record
    /// from the first read fails the same way.
    @Test func aFileThatChangesDuringTheBuildFailsIt() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["w.bin": Fixture.noise(3 * StreamBuffer.size)])
        try Self.expectBuildFails(tmp, naming: "w.bin") { try Self.append(Data([1, 2, 3]), to: tmp.file("m/w.bin")) }

        let built = try Operations.build(
            BuildOptions(source: tmp.file("m"), output: tmp.file("a.tar"), format: .tar), context: .test)
        try Fixture.write(Fixture.noise(3 * StreamBuffer.size + 3, seed: 8), to: tmp.file("m/w.bin"))  // same size
        #expect {
            _ = try BundleWriter.write(
                built.manifest, files: try ModelDirectory.scan(root: tmp.file("m"), maxPathBytes: 1024),
                to: tmp.file("b.tar.gz"),
                displayName: "b.tar.gz", format: .tarGz, timestamp: 0)
        } throws: { "\($0)".contains("changed while the bundle was being built") }
        #expect(TempDir.listing(tmp.path) == ["a.tar", "m"])
    }

    /// The same for a small file, which is read ahead on a second thread (`FilePrefetch`): one
    /// that grew or shrank between the scan and its read fails the build naming it, with nothing
    /// left behind; the files around it are read ahead as usual.
    @Test(arguments: [Data([1, 2, 3]), nil])
    func aSmallFileThatChangesDuringTheBuildFailsIt(appended: Data?) throws {
        let tmp = TempDir()
        var extra: [String: [UInt8]] = ["s.bin": Array(repeating: 7, count: 100)]
        for i in 0..<50 { extra["parts/p\(i).bin"] = Array(repeating: UInt8(i), count: 500) }
        try Fixture.model(at: tmp.file("m"), extra: extra)
        try Self.expectBuildFails(tmp, naming: "s.bin") {
            if let appended {
                try Self.append(appended, to: tmp.file("m/s.bin"))
            } else {
                try Fixture.write(Array(repeating: 7, count: 99), to: tmp.file("m/s.bin"))
            }
        }
    }

    /// Builds `tmp/m` into a tar, running `change` in the hook that starts the bundle (after the
    /// directory was scanned, before any file is read): the build must fail naming `file` as
    /// changed while it was read, and leave nothing in `tmp` but the model.
    static func expectBuildFails(_ tmp: TempDir, naming file: String, change: @escaping () throws -> Void) throws {
        let output = tmp.file("m.tar")
        #expect {
            _ = try ModelCheck.directory(tmp.file("m"), policy: ModelCheck.Policy(), context: .test) { look in
                let draft = try #require(look.draftManifest)
                let writer = try BundleWriter(
                    manifest: draft, reserving: true, to: output, displayName: output, format: .tar, timestamp: 0)
                try change()
                return writer
            }
        } throws: { error in
            "\(error)".contains(file) && "\(error)".contains("changed while it was being read")
        }
        #expect(TempDir.listing(tmp.path) == ["m"])  // no bundle, no temporary file
    }

    static func append(_ bytes: Data, to path: String) throws {
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        file.seekToEndOfFile()
        file.write(bytes)
        try file.close()
    }

    /// The serve cache's entry lock: held by another process (a Python that takes it), FileLock says
    /// it is waiting and blocks; when that process is killed the kernel frees the lock and the
    /// wait ends, so a crashed serve never leaves its entry locked.
    @Test(.enabled(if: PythonCompiler.find() != nil))
    func aLockHeldByAKilledProcessIsFreed() throws {
        let tmp = TempDir()
        let path = tmp.file("entry.lock")
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = [
            "python3", "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); time.sleep(60)",
            path,
        ]
        try holder.run()
        defer { if holder.isRunning { holder.terminate() } }
        // Until the holder has it: a probe that gets the lock lets go at once.
        var held = false
        for _ in 0..<500 where !held {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 {
                held = flock(fd, LOCK_EX | LOCK_NB) != 0
                close(fd)
            }
            if !held { usleep(10_000) }
        }
        try #require(held, "python never took \(path)")
        let waited = Locked(false)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { kill(holder.processIdentifier, SIGKILL) }
        let lock = try FileLock(path) { waited.withLock { $0 = true } }
        #expect(waited.withLock { $0 })
        holder.waitUntilExit()
        #expect(holder.terminationReason == .uncaughtSignal)
        withExtendedLifetime(lock) {}
    }

    @Test func killedUnpackLeavesNothingOrACompleteTree() throws {
        let tmp = TempDir()
        try Self.bigModel(at: tmp.file("model"))
        let bundle = tmp.file("model.tar")
        #expect(try CLI.run(["build", tmp.file("model"), "-o", bundle]).status == 0)
        let manifest = try BundleReader.inspect(bundle, limits: UnpackLimits()).manifest
        try FileSystem.makeDirectory(tmp.file("out"))
        let destination = tmp.file("out/model")
        let duration = try Self.shortest(["unpack", bundle, "-o", destination]) {
            FileSystem.removeTree(destination)
        }
        var kills = Kills()
        for point in 0..<Self.points {
            // Half the kills hit an unpack into nothing, half an unpack --force over a complete tree.
            let force = point % 2 == 1
            if !force { FileSystem.removeTree(destination) }
            try kills.run(["unpack", bundle, "-o", destination] + (force ? ["--force"] : []), within: duration)
            if FileSystem.exists(destination) {
                #expect(try Self.isComplete(destination, manifest), "kill \(point): \(destination) is incomplete")
            }
        }
        print(
            "unpack: \(kills.landed) of \(Self.points) kills hit a running unpack (\(String(format: "%.2f", duration)) s)"
        )
        #expect(kills.landed >= Self.points / 3, "too few kills landed during the unpack to test anything")
        FileSystem.removeTree(destination)
        _ = try Self.timed(["unpack", bundle, "-o", destination])
        #expect(Self.temporaries(in: tmp.file("out")).isEmpty)
        #expect(try Self.isComplete(destination, manifest))
    }

    /// Exactly the manifest's files (and the manifest), each with its digest.
    static func isComplete(_ root: String, _ manifest: Manifest) throws -> Bool {
        let found = TempDir.files(under: root).sorted()
        guard found == (manifest.files.map(\.path) + [Manifest.entryPath]).sorted() else { return false }
        for record in manifest.files {
            guard SHA256Stream.hex(of: try Fixture.read(root + "/" + record.path)) == record.sha256 else {
                return false
            }
        }
        return true
    }

    // MARK: full disk

    static func smallModel(_ root: String) throws {
        try Fixture.model(at: root, extra: ["weights.bin": Fixture.noise(3 << 20)])
    }

    /// `ulimit -f` (1 MiB): every write past it fails with EFBIG, which modelpack reports.
    @Test(arguments: ["build-tar", "build-zip", "unpack"]) func fileSizeLimit(_ operation: String) throws {
        let tmp = TempDir()
        try Self.smallModel(tmp.file("model"))
        #expect(try CLI.run(["build", tmp.file("model"), "-o", tmp.file("model.tar.gz")]).status == 0)
        try FileSystem.makeDirectory(tmp.file("out"))
        let target: String
        let arguments: [String]
        switch operation {
        case "build-tar":
            (target, arguments) = (tmp.file("out/b.tar"), ["build", tmp.file("model"), "-o", tmp.file("out/b.tar")])
        case "build-zip":
            (target, arguments) = (tmp.file("out/b.zip"), ["build", tmp.file("model"), "-o", tmp.file("out/b.zip")])
        default:
            (target, arguments) = (tmp.file("out/m"), ["unpack", tmp.file("model.tar.gz"), "-o", tmp.file("out/m")])
        }
        let result = try CLI.run(
            ["-c", "ulimit -f 2048; exec \"$0\" \"$@\"", CLI.binary] + arguments, executable: "/bin/sh")
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: \(target)"), "\(result.stderr)")
        #expect(result.stderr.contains("File too large"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(try FileSystem.listDirectory(tmp.file("out")).isEmpty)
    }

    static let canMount: Bool = {
        guard getuid() == 0 else { return false }
        let probe = TempDir()
        defer { _ = umount(probe.path) }
        return (try? CLI.run(["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe.path], executable: "/bin/mount"))?.status
            == 0
    }()

    /// A 2 MiB tmpfs: build runs out of space while writing; unpack is refused up front when the
    /// manifest says it cannot fit, and fails cleanly when it fits by bytes but not by blocks.
    @Test(.enabled(if: canMount, "needs root to mount a tmpfs")) func fullDisk() throws {
        let tmp = TempDir()
        try Self.smallModel(tmp.file("model"))
        try Fixture.model(
            at: tmp.file("many"),
            extra: Dictionary(uniqueKeysWithValues: (0..<700).map { ("parts/\($0).txt", Array("\($0)\n".utf8)) }))
        #expect(try CLI.run(["build", tmp.file("model"), "-o", tmp.file("model.tar")]).status == 0)
        #expect(try CLI.run(["build", tmp.file("many"), "-o", tmp.file("many.tar")]).status == 0)
        try FileSystem.makeDirectory(tmp.file("disk"))
        #expect(
            try CLI.run(["-t", "tmpfs", "-o", "size=2m", "tmpfs", tmp.file("disk")], executable: "/bin/mount").status
                == 0)
        defer { _ = umount(tmp.file("disk")) }

        let cases: [(arguments: [String], message: String)] = [
            (["build", tmp.file("model"), "-o", tmp.file("disk/b.tar")], "No space left on device"),
            (["build", tmp.file("model"), "-o", tmp.file("disk/b.zip")], "No space left on device"),
            (["unpack", tmp.file("model.tar"), "-o", tmp.file("disk/m")], "only 2097152 are free"),
            (["unpack", tmp.file("many.tar"), "-o", tmp.file("disk/m")], "No space left on device"),
        ]
        for (arguments, message) in cases {
            let result = try CLI.run(arguments)
            #expect(result.status == 3, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(try FileSystem.listDirectory(tmp.file("disk")).isEmpty, "\(arguments) left something")
        }
    }
}

/// A small, seedable generator (splitmix64), so a failing crash run can be repeated.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
