import Foundation
import Testing

@testable import ModelPackCore

/// `modelpack serve` on the iris example: a real server process with a real virtualenv (created
/// once per Python and requirements from PyPI; MODELPACK_REQUIRE_SERVE=1 in CI makes this test mandatory).
@Suite(.serialized) struct ServeTests {
    /// Whether the tests that create serve's virtualenvs (pip, from PyPI) run: not in `make
    /// check`'s tier (MODELPACK_TIER=check), which needs no network and no virtualenv.
    static var enabled: Bool {
        let environment = ProcessInfo.processInfo.environment
        if environment["MODELPACK_REQUIRE_SERVE"] == "1" { return true }
        return environment["MODELPACK_TIER"] != "check" && PythonCompiler.find() != nil
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")
    }

    static func curl(_ arguments: [String]) throws -> (status: Int, body: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sS", "--max-time", "20", "-w", "\n%{http_code}"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    @Test(.enabled(if: enabled), .timeLimit(.minutes(10)))
    func irisAnswersHealthPredictionsAndMalformedRows() throws {
        let tmp = TempDir()
        let bundle = tmp.file("iris.zip")
        _ = try Operations.build(
            BuildOptions(
                source: ValidationTests.examples.appendingPathComponent("iris-sklearn").path, output: bundle,
                format: .zip), context: .test)
        let port = Int.random(in: 20_000...40_000)
        let base = "http://127.0.0.1:\(port)"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: CLI.binary)
        server.arguments = ["serve", bundle, "--port", String(port)]
        var env = ProcessInfo.processInfo.environment
        env["MODELPACK_API_KEY"] = "s3cret"
        env["MODELPACK_MAX_BODY_BYTES"] = "4096"
        server.environment = env
        let log = FileHandle(forWritingAtPath: "/dev/null")
        server.standardOutput = log
        server.standardError = log
        try server.run()
        defer {
            server.terminate()  // SIGTERM: uvicorn shuts down gracefully
            for _ in 0..<100 where server.isRunning { Thread.sleep(forTimeInterval: 0.1) }
            if server.isRunning { kill(server.processIdentifier, SIGKILL) }
            server.waitUntilExit()
        }
        var up = false
        for _ in 0..<300 where !up {
            up = (try? Self.curl([base + "/health"]))?.status == 200
            if !up { Thread.sleep(forTimeInterval: 1) }
        }
        try #require(up, "the server did not answer /health within 300 s")
        #expect(try Self.curl([base + "/ready"]).body.contains("\"ready\":true"))
        #expect(try Self.curl([base + "/metadata"]).body.contains("\"iris-classifier\""))

        let key = ["-H", "Authorization: Bearer s3cret", "-H", "content-type: application/json", "-X", "POST"]
        // Known rows of the iris data: rows 0, 50 and 100, one of each species.
        let single = try Self.curl(
            key + [
                "-d", #"{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}"#,
                base + "/predict",
            ])
        #expect(single.status == 200 && single.body == #"{"prediction":"setosa"}"#)
        let batch = try Self.curl(
            key + [
                "-d", #"{"instances": [[5.1, 3.5, 1.4, 0.2], [7.0, 3.2, 4.7, 1.4], [6.3, 3.3, 6.0, 2.5]]}"#,
                base + "/predict",
            ])
        #expect(batch.status == 200 && batch.body == #"{"predictions":["setosa","versicolor","virginica"]}"#)
        let malformed = try Self.curl(
            key + [
                "-d", #"{"instances": [{"sepal_length": "long", "sepal_width": 3.5, "petal_length": 1.4}]}"#,
                base + "/predict",
            ])
        #expect(malformed.status == 422)
        #expect(malformed.body.contains(#""input":"sepal_length","error":"must be a number, found a string""#))
        #expect(malformed.body.contains(#""input":"petal_width","error":"is missing""#))
        let noKey = try Self.curl(["-X", "POST", "-d", "{}", base + "/predict"])
        #expect(noKey.status == 401)
        let big =
            "{\"instances\": [" + Array(repeating: "[5.1, 3.5, 1.4, 0.2]", count: 400).joined(separator: ",") + "]}"
        #expect(try Self.curl(key + ["-d", big, base + "/predict"]).status == 413)
        // The typed contract: the iris inputs, from metadata.yaml.
        let contract = try #require(
            try JSONSerialization.jsonObject(with: Data(try Self.curl([base + "/openapi.json"]).body.utf8))
                as? [String: Any])
        let instance = ((contract["components"] as? [String: Any])?["schemas"] as? [String: Any])?["Instance"]
        let mapping = ((instance as? [String: Any])?["anyOf"] as? [[String: Any]])?.first
        #expect(
            mapping?["required"] as? [String] == ["sepal_length", "sepal_width", "petal_length", "petal_width"],
            "\(String(describing: instance))")
        // Two workers answer; each writes its counts for the other at most every 0.25 s, so a
        // scrape right after a request may not count it yet: wait out one flush.
        Thread.sleep(forTimeInterval: 0.6)
        let metrics = try Self.curl([base + "/metrics"]).body
        #expect(server.isRunning)
        #expect(metrics.contains(#"modelpack_requests_total{path="/predict",status="200"} 2"#))
        // Every /predict request is timed, refused ones too.
        #expect(metrics.contains(#"modelpack_predict_latency_seconds_count 5"#))
        // While it serves, the server holds its bundle's and its environment's cache entries in use
        // (across serve's exec): a prune passes both by.
        let prune = try CLI.run(["cache", "prune", "--keep", "0", "--dry-run", "--json"])
        let kept = try #require(
            (try JSONSerialization.jsonObject(with: Data(prune.stdout.utf8)) as? [String: Any])?["kept"]
                as? [[String: Any]], "\(prune.stdout) \(prune.stderr)")
        let busy = kept.filter { $0["inUse"] as? Bool == true }
        #expect(
            busy.contains {
                $0["area"] as? String == "serve" && ($0["about"] as? String ?? "").contains("iris-classifier")
            },
            "\(busy)")
        #expect(busy.contains { $0["area"] as? String == "envs" }, "\(busy)")
        // SIGTERM reaches the server (modelpack's own signal handling must not leak into it).
        server.terminate()
        for _ in 0..<100 where server.isRunning { Thread.sleep(forTimeInterval: 0.1) }
        #expect(!server.isRunning, "the server ignored SIGTERM")
    }
}

/// `serve DIR --reload`: a model directory served, rebuilt and restarted on an edit, kept when the
/// checks refuse an edit, and the server gone with modelpack even when modelpack is SIGKILLed.
@Suite(.serialized) struct ServeReloadTests {
    @Test(.enabled(if: ServeTests.enabled), .timeLimit(.minutes(10)))
    func anEditedDirectoryIsServedAgainAndTheServerEndsWithModelpack() throws {
        let tmp = TempDir()
        let model = tmp.file("iris")
        try FileManager.default.copyItem(
            atPath: ValidationTests.examples.appendingPathComponent("iris-sklearn").path, toPath: model)
        let port = Int.random(in: 20_000...40_000)
        let base = "http://127.0.0.1:\(port)"
        let supervisor = Process()
        supervisor.executableURL = URL(fileURLWithPath: CLI.binary)
        supervisor.arguments = ["serve", model, "--reload", "--port", String(port)]
        let log = tmp.file("serve.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        supervisor.standardOutput = handle
        supervisor.standardError = handle
        try supervisor.run()
        defer {
            if supervisor.isRunning { kill(supervisor.processIdentifier, SIGKILL) }
            supervisor.waitUntilExit()
        }
        let row = [
            "-H", "content-type: application/json", "-X", "POST", "-d", "[5.1, 3.5, 1.4, 0.2]", base + "/predict",
        ]
        func logged() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        func answers(_ body: String, within seconds: Int) -> Bool {
            for _ in 0..<seconds {
                if (try? ServeTests.curl(row))?.body == body { return true }
                Thread.sleep(forTimeInterval: 1)
            }
            return false
        }
        try #require(
            answers(#"{"prediction":"setosa"}"#, within: 300), "\(logged())")

        let interface = model + "/interface.py"
        let edit =
            "\n\nclass Edited:\n    def predict(self, rows):\n        return ['edited' for _ in rows]\n\n\n"
            + "def load_model():  # noqa: F811\n    return Edited()\n"
        try Fixture.write(try Fixture.read(interface) + Array(edit.utf8), to: interface)
        #expect(
            answers(#"{"prediction":"edited"}"#, within: 120), "\(logged())")
        // What is served now stays in use (a prune passes it by) while the server runs.
        _ = try Operations.build(
            BuildOptions(source: model, output: tmp.file("edited.tar"), format: .tar), context: .test)
        let served = String(
            try BundleReader.inspect(tmp.file("edited.tar"), limits: UnpackLimits()).digest.dropFirst(7).prefix(32))
        let prune = try CLI.run(["cache", "prune", "--keep", "0", "--dry-run", "--json"])
        let kept = (try JSONSerialization.jsonObject(with: Data(prune.stdout.utf8)) as? [String: Any])?["kept"]
        #expect(
            (kept as? [[String: Any]] ?? []).contains {
                $0["name"] as? String == served && $0["inUse"] as? Bool == true
            },
            "\(prune.stdout)")

        // An edit the checks refuse: logged, and the previous model keeps serving.
        let metadata = model + "/metadata.yaml"
        try Fixture.write(try Fixture.read(metadata) + Array("version: [not a version\n".utf8), to: metadata)
        var refused = false
        for _ in 0..<60 where !refused {
            refused = logged().contains("the checks refuse the change")
            if !refused { Thread.sleep(forTimeInterval: 1) }
        }
        #expect(refused, "\(logged())")
        #expect(try ServeTests.curl(row).body == #"{"prediction":"edited"}"#)

        // modelpack killed outright: its server follows it (PR_SET_PDEATHSIG) and frees the port.
        kill(supervisor.processIdentifier, SIGKILL)
        supervisor.waitUntilExit()
        var freed = false
        for _ in 0..<50 where !freed {
            freed = (try? PortCheck.ensureFree(host: "127.0.0.1", port: port)) != nil
            if !freed { Thread.sleep(forTimeInterval: 0.2) }
        }
        #expect(freed, "the server outlived modelpack and still holds port \(port)")
    }

    @Test func reloadTakesADirectoryOnly() throws {
        let tmp = TempDir()
        try Fixture.write([1, 2, 3], to: tmp.file("b.zip"))
        let result = try CLI.run(["serve", tmp.file("b.zip"), "--reload", "--port", "18093"])
        #expect(result.status == 2 && result.stderr.contains("--reload watches a model directory"), "\(result.stderr)")
    }
}

@Suite struct ServePortTests {
    /// A port in use is one error line before anything is unpacked or printed (exit 3).
    @Test func aBusyPortIsRefusedFirst() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["model.bin": [1, 2, 3]])
        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("m.zip")]).status == 0)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 && listen(fd, 1) == 0
            }
        }
        #expect(bound)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let result = try CLI.run(
            ["serve", tmp.file("m.zip"), "--port", String(port)], environment: ["MODELPACK_CACHE": tmp.file("cache")])
        #expect(result.status == ExitStatus.failure)
        #expect(result.stderr == "error: 127.0.0.1:\(port): cannot listen: Address already in use\n")
        #expect(!FileSystem.exists(tmp.file("cache")))
    }
}
