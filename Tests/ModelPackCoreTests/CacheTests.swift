import Foundation
import Testing

@testable import ModelPackCore

/// `modelpack cache list|prune` on a cache laid out by hand (every area, entries of known sizes and
/// ages, one held in use by another process), and the key serve and predict give a virtualenv.
@Suite struct CacheTests {
    /// A folder entry of `bytes` bytes, last used `age` seconds ago (its `.use` file's mtime).
    static func folder(_ root: String, _ area: String, _ name: String, bytes: Int, age: Int) throws {
        let path = root + "/" + area + "/" + name
        try FileManager.default.createDirectory(atPath: path + "/venv", withIntermediateDirectories: true)
        try Fixture.write(Fixture.noise(bytes), to: path + "/venv/data")
        if area == "envs" { try Fixture.write([], to: path + "/venv/.modelpack-ready") }
        try Fixture.write([], to: path + ".use")
        try Fixture.write([], to: path + ".lock")
        try setAge(path, age)
        try setAge(path + ".use", age)
    }

    /// A virtualenv whose pip install never finished (no `.modelpack-ready`) is removed by any
    /// prune, however much room there is, and `cache list` says it is broken.
    @Test func brokenEnvironmentsArePrunedWhateverTheSize() throws {
        let tmp = TempDir()
        let root = tmp.file("cache")
        try Self.folder(root, "envs", "ready", bytes: 1000, age: 100)
        try Self.folder(root, "envs", "broken", bytes: 1000, age: 10)
        unlink(root + "/envs/broken/venv/.modelpack-ready")
        let environment = ["MODELPACK_CACHE": root]
        let listed = try CLI.run(["cache", "list"], environment: environment)
        #expect(listed.stdout.contains("broken: its virtualenv was never finished"), "\(listed.stdout)")
        let pruned = try CLI.run(["cache", "prune", "--keep", "1TiB", "--json"], environment: environment)
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(Self.names(try Self.json(pruned)["removed"]) == ["envs/broken"], "\(pruned.stdout)")
        #expect(FileSystem.exists(root + "/envs/ready/venv") && !FileSystem.exists(root + "/envs/broken"))
    }

    static func file(_ root: String, _ relative: String, bytes: Int, age: Int) throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(
            atPath: FileSystem.parentDirectory(of: path), withIntermediateDirectories: true)
        try Fixture.write(Fixture.noise(bytes), to: path)
        try setAge(path, age)
    }

    static func setAge(_ path: String, _ seconds: Int) throws {
        var times = [
            timeval(tv_sec: time(nil) - seconds, tv_usec: 0), timeval(tv_sec: time(nil) - seconds, tv_usec: 0),
        ]
        try #require(utimes(path, &times) == 0)
    }

    /// A Python process holding a shared flock on `path` until it is killed (what a running serve's
    /// server, or the batch driver, holds on an entry's `.use` file).
    static func holder(_ path: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(PythonCompiler.find()))
        process.arguments = [
            "-c",
            "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_SH); "
                + "print('held', flush=True); time.sleep(120)",
            path,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let line = pipe.fileHandleForReading.readData(ofLength: 5)
        try #require(String(decoding: line, as: UTF8.self) == "held\n", "the holder did not take \(path)")
        return process
    }

    static func json(_ result: CLI.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    static func names(_ rows: Any?) -> [String] {
        ((rows as? [[String: Any]]) ?? []).map { "\($0["area"] as? String ?? "")/\($0["name"] as? String ?? "")" }
    }

    @Test(.enabled(if: PythonCompiler.find() != nil))
    func pruneRemovesTheLeastRecentlyUsedEntriesNotInUse() throws {
        let dir = TempDir()
        let root = dir.file("cache")
        let blob = String(repeating: "b", count: 64)
        try Self.folder(root, "serve", "busy", bytes: 1000, age: 400)
        try Self.folder(root, "serve", "old", bytes: 1000, age: 300)
        try Self.folder(root, "envs", "env1", bytes: 1000, age: 200)
        try Self.file(root, "blobs/sha256/" + blob, bytes: 1000, age: 100)
        try Self.file(root, "compile/k.json", bytes: 100, age: 50)
        // What an interrupted prune left: removed by the next one, never listed.
        try Self.file(root, "serve/.trash-gone-1/venv/data", bytes: 10, age: 10)
        let holder = try Self.holder(root + "/serve/busy.use")
        defer {
            if holder.isRunning { kill(holder.processIdentifier, SIGKILL) }
            holder.waitUntilExit()
        }
        let environment = ["MODELPACK_CACHE": root]

        let list = try CLI.run(["cache", "list", "--format", "json"], environment: environment)
        #expect(list.status == 0, "\(list.stderr)")
        let listed = try Self.json(list)
        #expect(
            Self.names(listed["entries"])
                == ["compile/k.json", "blobs/" + blob, "envs/env1", "serve/old", "serve/busy"])
        let busy = (listed["entries"] as? [[String: Any]])?.last
        #expect(busy?["inUse"] as? Bool == true && busy?["bytes"] as? Int ?? 0 >= 1000)
        let text = try CLI.run(["cache", "list"], environment: environment)
        #expect(text.stdout.contains("in 5 entries") && text.stdout.contains("busy"), "\(text.stdout)")

        // 4,100 bytes and more (the folders' own sizes) down to 1,100: the oldest go first, the busy one is passed by.
        let dry = try CLI.run(["cache", "prune", "--keep", "1100", "--dry-run", "--json"], environment: environment)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(Self.names(try Self.json(dry)["removed"]) == ["serve/old", "envs/env1", "blobs/" + blob])
        #expect(FileSystem.exists(root + "/serve/old") && FileSystem.exists(root + "/serve/.trash-gone-1"))

        let pruned = try CLI.run(["cache", "prune", "--keep", "1100"], environment: environment)
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(pruned.stdout.contains("removed 3 entries") && pruned.stdout.contains("(1 in use, never removed)"))
        #expect(TempDir.listing(root + "/serve") == ["busy", "busy.lock", "busy.use"])
        #expect(TempDir.listing(root + "/envs").isEmpty && TempDir.listing(root + "/blobs/sha256").isEmpty)
        #expect(TempDir.listing(root + "/compile") == ["k.json"])

        // Once its user is gone, the entry goes too.
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let all = try CLI.run(["cache", "prune", "--keep", "0", "--only", "serve"], environment: environment)
        #expect(all.status == 0 && TempDir.listing(root + "/serve").isEmpty, "\(all.stdout)")
        #expect(TempDir.listing(root + "/compile") == ["k.json"])
    }

    /// An entry being made (its `.lock` held) is in use as well.
    @Test(.enabled(if: PythonCompiler.find() != nil))
    func anEntryBeingMadeIsNotRemoved() throws {
        let dir = TempDir()
        let root = dir.file("cache")
        try Self.folder(root, "envs", "making", bytes: 10, age: 1000)
        let holder = try Self.holder(root + "/envs/making.lock")
        defer {
            if holder.isRunning { kill(holder.processIdentifier, SIGKILL) }
            holder.waitUntilExit()
        }
        let result = try CacheStore.prune(keeping: 0, in: root)
        #expect(result.removed.isEmpty && result.kept.first?.inUse == true)
        #expect(FileSystem.exists(root + "/envs/making"))
    }

    /// A virtualenv's size is walked once, when it is made, and read from its stamp after that.
    @Test func aFolderWithASizeStampIsNotWalked() throws {
        let dir = TempDir()
        let root = dir.file("cache")
        try Self.folder(root, "envs", "e", bytes: 1000, age: 0)
        try Fixture.write(Fixture.noise(24), to: root + "/envs/e/spark-env.tar.gz")
        try CacheStore.recordSize(of: root + "/envs/e/venv")
        #expect(try String(contentsOfFile: root + "/envs/e/venv/.modelpack-size", encoding: .utf8) == "1000")
        try Fixture.write(Array("123456".utf8), to: root + "/envs/e/venv/.modelpack-size")
        #expect(try CacheStore.entries(in: root).map(\.bytes) == [123_456 + 24])
        try CacheStore.recordSize(of: root + "/envs/e/venv")
        #expect(try CacheStore.entries(in: root).map(\.bytes) == [1000 + 24])
    }

    @Test func badArgumentsAreOneLineUsageErrors() throws {
        let dir = TempDir()
        let environment = ["MODELPACK_CACHE": dir.file("cache")]
        let size = try CLI.run(["cache", "prune", "--keep", "lots"], environment: environment)
        #expect(size.status == 2 && size.stderr.contains("--keep 'lots' is not a size"), "\(size.stderr)")
        let area = try CLI.run(["cache", "prune", "--only", "serve,wheels"], environment: environment)
        #expect(area.status == 2 && area.stderr.contains("--only 'wheels' is not an area"), "\(area.stderr)")
        let empty = try CLI.run(["cache", "list"], environment: environment)
        #expect(empty.status == 0 && empty.stdout.contains("0 B in 0 entries"), "\(empty.stdout)")
        #expect(CacheStore.cap(environment: ["MODELPACK_CACHE_MAX": "1MiB"]) == 1 << 20)
        #expect(CacheStore.cap(environment: [:]) == 20 << 30)
    }

    /// The virtualenv's key: the interpreter, the model's requirement files (includes too) and the
    /// runtime's; not the model's code. A requirement installed from the bundle makes it the bundle's own.
    @Test func theEnvironmentKeyFollowsWhatTheEnvironmentHolds() throws {
        let dir = TempDir()
        let runtime = dir.file("runtime-requirements.txt")
        try Fixture.write(Array("fastapi==0.165.0\n".utf8), to: runtime)
        func key(_ files: [String: String], python: String = "/bin/sh", bundle: String = "sha256:aa") throws -> String {
            let model = dir.file(UUID().uuidString)
            try FileManager.default.createDirectory(atPath: model, withIntermediateDirectories: true)
            for (name, text) in files { try Fixture.write(Array(text.utf8), to: model + "/" + name) }
            return try EnvironmentKey.of(python: python, model: model, runtimeRequirements: runtime, bundle: bundle)
        }
        let base = try key(["requirements.txt": "scikit-learn==1.7.2\n", "interface.py": "a = 1\n"])
        #expect(try key(["requirements.txt": "scikit-learn==1.7.2\n", "interface.py": "a = 2\n"]) == base)
        #expect(try key(["requirements.txt": "scikit-learn==1.7.2\n"], bundle: "sha256:bb") == base)
        #expect(try key(["requirements.txt": "scikit-learn==1.7.1\n"]) != base)
        // The same set, spelt otherwise (comments, spacing, order, a name's case and separators):
        // one environment for both bundles.
        let set = try key(["requirements.txt": "scikit-learn==1.7.2\nnumpy==2.3.4\n"])
        #expect(
            try key(["requirements.txt": "# pinned\nNumPy == 2.3.4  # arrays\n\nScikit_Learn==1.7.2\n"]) == set)
        #expect(try key(["requirements.txt": "scikit-learn==1.7.2\nnumpy==2.3.5\n"]) != set)
        #expect(try key(["requirements.txt": "scikit-learn==1.7.2\n"], python: "/bin/ls") != base)
        let included = ["requirements.txt": "-r more.txt\n", "more.txt": "numpy==2.3.4\n"]
        var changed = included
        changed["more.txt"] = "numpy==2.3.5\n"
        #expect(try key(included) != key(changed))
        for local in [
            "./wheels/model_tools-1.0-py3-none-any.whl\n", "-e .\n", "--find-links=wheels\nx==1\n", "-fwheels\n",
        ] {
            let files = ["requirements.txt": local]
            #expect(try key(files, bundle: "sha256:aa") != key(files, bundle: "sha256:bb"), "\(local)")
        }
        let remote = ["requirements.txt": "tool @ https://example.com/tool-1.0.whl\n"]
        #expect(try key(remote, bundle: "sha256:aa") == key(remote, bundle: "sha256:bb"))
        try Fixture.write(Array("fastapi==0.166.0\n".utf8), to: runtime)
        #expect(try key(["requirements.txt": "scikit-learn==1.7.2\n"]) != base)
        #expect(throws: ModelPackError.self) { try key(["requirements.txt": "x==1\n"], python: "no-such-python-here") }
    }
}
