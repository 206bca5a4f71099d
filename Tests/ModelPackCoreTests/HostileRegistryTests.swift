import Foundation
import Testing

@testable import ModelPackCore

#if canImport(Glibc)
    import Glibc
#endif

/// Fixtures/registry/hostile_registry.py: a registry that lies (a token realm elsewhere, a
/// redirect to clear text, endless or dripping bodies, impossible sizes, terminal escapes). Each
/// request it gets is logged with the Authorization header it carried.
final class HostileRegistry {
    let root = TempDir()
    let port: Int
    private let process = Process()
    var host: String { "127.0.0.1:\(port)" }
    var logPath: String { root.file("requests.log") }

    /// `tls`: a certificate for 127.0.0.1 and localhost, signed by `ca` (whose `caFile` the client
    /// gives with --ca-file).
    init(_ mode: [String], tls ca: TestCA? = nil) throws {
        port = try TestRegistry.freePort()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/registry/hostile_registry.py").path
        process.executableURL = URL(fileURLWithPath: try #require(PythonCompiler.find()))
        process.arguments =
            [script, String(port), logPath] + mode + (ca.map { ["--tls", $0.certificate, $0.key] } ?? [])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try TestRegistry.waitForPort(port)
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The requests it got, as (path, Authorization header or nil).
    func requests() -> [(path: String, authorization: String?)] {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap {
            guard let entry = try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] else {
                return nil
            }
            return (entry["path"] as? String ?? "", entry["authorization"] as? String)
        }
    }
}

/// A CA of the test's own and a server certificate it signed for 127.0.0.1 and localhost.
struct TestCA {
    let root = TempDir()
    var caFile: String { root.file("ca.pem") }
    var certificate: String { root.file("server.pem") }
    var key: String { root.file("server.key") }

    init() throws {
        try TestRegistry.openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=modelpack hostile CA",
            "-keyout", root.file("ca.key"), "-out", caFile,
        ])
        try TestRegistry.openssl([
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out",
            root.file("server.csr"),
        ])
        try Fixture.write(Array("subjectAltName=IP:127.0.0.1,DNS:localhost\n".utf8), to: root.file("san.cnf"))
        try TestRegistry.openssl([
            "x509", "-req", "-in", root.file("server.csr"), "-CA", caFile, "-CAkey", root.file("ca.key"),
            "-CAcreateserial", "-days", "2", "-extfile", root.file("san.cnf"), "-out", certificate,
        ])
    }
}

/// What the registry client trusts: nothing it is sent (issue "Fail closed"; Docs/REGISTRY.md).
@Suite(.serialized) struct HostileRegistryTests {
    static let secret = "s3cret-pa55"

    /// A client whose Docker configuration holds alice's password for `registry`, and optionally
    /// trusts token services on `realmHosts` with it.
    static func client(for registry: String, realmHosts: [String] = []) throws -> ClientEnvironment {
        let client = ClientEnvironment()
        try FileManager.default.createDirectory(atPath: client.dockerConfig, withIntermediateDirectories: true)
        var entry: [String: Any] = ["auth": Data("alice:\(secret)".utf8).base64EncodedString()]
        if !realmHosts.isEmpty { entry[DockerConfig.realmHostsKey] = realmHosts }
        let config = try JSONSerialization.data(withJSONObject: ["auths": [registry: entry]])
        try Fixture.write(Array(config), to: client.dockerConfig + "/config.json")
        return client
    }

    static func available() -> Bool {
        guard PythonCompiler.find() != nil, FileSystem.executableOnPath("openssl") != nil else {
            if TestRegistry.required { Issue.record("python3 and openssl are needed for the hostile registry") }
            return false
        }
        return true
    }

    /// A Bearer challenge whose realm is another port (plain HTTP) or another host (HTTPS) gets
    /// no credential from login, pull, inspect or push; a host the user names gets it over TLS.
    @Test func credentialsGoOnlyToTheRegistrysOrigin() throws {
        guard Self.available() else { return }
        let dir = TempDir()
        let bundle = dir.file("iris.tar")
        try RegistryTests.build(try RegistryTests.model(dir), bundle)
        let catcher = try HostileRegistry(["catcher"])
        let registry = try HostileRegistry(["realm", "http://127.0.0.1:\(catcher.port)/token"])
        let client = try Self.client(for: registry.host)
        let reference = "\(registry.host)/team/iris:1"
        let runs = [
            try client.run(["login", registry.host, "-u", "alice", "--password-stdin"], stdin: Self.secret),
            try client.run(["pull", reference, "-o", dir.file("x.tar")]),
            try client.run(["inspect", "oci://" + reference, "--manifest-only"]),
            try client.run(["inspect", "oci://" + reference]),
            try client.run(["push", bundle, reference]),
        ]
        for run in runs {
            #expect(run.status != 0)
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
            #expect(!run.stderr.contains(Self.secret))
        }
        #expect(!catcher.requests().isEmpty, "the realm was never asked")
        #expect(catcher.requests().allSatisfy { $0.authorization == nil }, "\(catcher.requests())")

        // Over TLS on another host (localhost is not 127.0.0.1): withheld, unless the user names it.
        let ca = try TestCA()
        let secure = try HostileRegistry(["catcher"], tls: ca)
        let challenger = try HostileRegistry(["realm", "https://localhost:\(secure.port)/token"], tls: ca)
        let other = "\(challenger.host)/team/iris:1"
        _ = try Self.client(for: challenger.host).run(["pull", other, "-o", dir.file("x.tar"), "--ca-file", ca.caFile])
        #expect(secure.requests().allSatisfy { $0.authorization == nil }, "\(secure.requests())")
        let trusting = try Self.client(for: challenger.host, realmHosts: ["localhost"])
        _ = try trusting.run(["pull", other, "-o", dir.file("x.tar"), "--ca-file", ca.caFile])
        let basic = "Basic " + Data("alice:\(Self.secret)".utf8).base64EncodedString()
        #expect(secure.requests().contains { $0.authorization == basic }, "\(secure.requests())")
        #expect(!FileSystem.exists(dir.file("x.tar")))
    }

    /// `login --realm-host` stores the trusted host with the credential, where pull finds it.
    @Test func loginStoresTheRealmHostsWithTheCredential() throws {
        guard Self.available(), TestRegistry.check() else { return }
        let registry = try TestRegistry(auth: .htpasswd(user: "alice", password: Self.secret))
        let client = ClientEnvironment()
        let login = try client.run(
            ["login", registry.host, "-u", "alice", "--password-stdin", "--realm-host", "Auth.Example.com"],
            stdin: Self.secret)
        #expect(login.status == 0, "\(login.stderr)")
        let credential = try DockerConfig(environment: ["DOCKER_CONFIG": client.dockerConfig]).credential(
            for: registry.host)
        #expect(credential?.realmHosts == ["auth.example.com"])
        #expect(credential?.secret == Self.secret)
        let bad = try client.run([
            "login", registry.host, "-u", "alice", "--password-stdin", "--realm-host", "https://x",
        ])
        #expect(bad.status == 2 && bad.stderr.contains("--realm-host"))
    }

    /// A TLS registry that redirects to plain HTTP (same host, another port) is refused, and the
    /// credential never travels in clear text.
    @Test func aRedirectToClearTextIsRefused() throws {
        guard Self.available() else { return }
        let ca = try TestCA()
        let catcher = try HostileRegistry(["catcher"])
        let registry = try HostileRegistry(
            ["basic", "http://127.0.0.1:\(catcher.port)/v2/team/iris/manifests/1"], tls: ca)
        let client = try Self.client(for: registry.host)
        let dir = TempDir()
        for arguments in [
            ["pull", "\(registry.host)/team/iris:1", "-o", dir.file("x.tar")],
            ["inspect", "oci://\(registry.host)/team/iris:1", "--manifest-only"],
        ] {
            let run = try client.run(arguments + ["--ca-file", ca.caFile])
            #expect(run.status == 1 && run.stderr.contains("redirected to plain HTTP"), "\(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1)
        }
        // The registry itself got the credential over TLS; the clear-text host never.
        #expect(registry.requests().contains { $0.authorization?.hasPrefix("Basic ") == true })
        #expect(catcher.requests().isEmpty, "\(catcher.requests())")
    }

    /// Manifests, configs, bundle manifests and error bodies that never end are cut at their bound
    /// with one line; the whole refusal takes seconds, not forever.
    @Test(arguments: [["endless", "manifest"], ["endless", "config"], ["endless", "bundle"], ["error-body"]])
    func endlessBodiesAreCut(_ mode: [String]) throws {
        guard Self.available() else { return }
        let registry = try HostileRegistry(mode)
        let start = Date()
        let run = try ClientEnvironment().run(["inspect", "oci://\(registry.host)/team/iris:1", "--manifest-only"])
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("is longer than"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
    }

    /// A registry that sends a byte a second is given up after the stall timeout.
    @Test func aDrippingRegistryIsGivenUp() throws {
        guard Self.available() else { return }
        let registry = try HostileRegistry(["drip"])
        let start = Date()
        let run = try ClientEnvironment().run([
            "inspect", "oci://\(registry.host)/team/iris:1", "--manifest-only", "--stall-timeout", "2",
        ])
        #expect(Date().timeIntervalSince(start) < 20)
        #expect(run.status != 0)
        #expect(run.stderr.contains("less than 1 KiB/s for 2 s"), "\(run.stderr)")
    }

    /// A layer whose size is Int64.max or negative is refused before any arithmetic: no crash, no
    /// cancelled total.
    @Test(arguments: [String(Int64.max), "-1000", String(Int64.max / 2 + 1)])
    func impossibleSizesAreRefused(_ size: String) throws {
        guard Self.available() else { return }
        let registry = try HostileRegistry(["sizes", size])
        let client = ClientEnvironment()
        let dir = TempDir()
        for arguments in [
            ["inspect", "oci://\(registry.host)/team/iris:1", "--manifest-only"],
            ["pull", "\(registry.host)/team/iris:1", "-o", dir.file("x.tar")],
            ["pull", "\(registry.host)/team/iris:1", "--unpack", dir.file("x")],
        ] {
            let run = try client.run(arguments)
            #expect(run.status == 1, "\(arguments): \(run.status) \(run.stderr)")
            #expect(run.stderr.contains("size"), "\(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1)
        }
    }

    /// What a registry says reaches the terminal with its control characters escaped: a refusal
    /// cannot be drawn as a green "pulled", nor add a line.
    @Test func registryTextIsPrintedEscaped() throws {
        guard Self.available() else { return }
        let registry = try HostileRegistry(["control"])
        let client = ClientEnvironment()
        let dir = TempDir()
        let inspect = try client.run(["inspect", "oci://\(registry.host)/team/iris:1", "--manifest-only"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(!inspect.stdout.contains("\u{1B}"), "\(inspect.stdout)")
        #expect(inspect.stdout.contains(#"\x1b[1;32mpulled\x1b[0m\nfake line"#), "\(inspect.stdout)")
        #expect(inspect.stdout.contains(#"model\x1b[2K.bin"#))
        let pull = try client.run(["pull", "\(registry.host)/team/iris:1", "--unpack", dir.file("x")])
        #expect(pull.status != 0)
        #expect(!pull.stderr.contains("\u{1B}") && !pull.stderr.contains("\u{08}"), "\(pull.stderr)")
        #expect(pull.stderr.split(separator: "\n").count == 1, "\(pull.stderr)")
    }
}

/// A foreign artifact's tar layer is held to the unpack limits as a bundle is, the expansion
/// ratio among them, however many times it was compressed.
@Suite struct ForeignLayerLimitTests {
    @Test func aTarLayerBombStopsAtTheRatio() throws {
        let tmp = TempDir()
        try Fixture.write([UInt8](repeating: 0, count: 32 << 20), to: tmp.file("in/weights.bin"))
        for (tool, arguments) in [
            ("/usr/bin/tar", ["-cf", tmp.file("layer.tar"), "-C", tmp.file("in"), "weights.bin"]),
            ("/bin/gzip", ["-n", tmp.file("layer.tar")]), ("/bin/mv", [tmp.file("layer.tar.gz"), tmp.file("once")]),
            ("/bin/gzip", ["-n", tmp.file("once")]),
        ] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = arguments
            try process.run()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "\(tool) \(arguments)")
        }
        let blob = tmp.file("once.gz")  // a tar, gzipped twice
        let size = try #require(try FileSystem.lstatInfo(blob)).size
        var limits = UnpackLimits()
        limits.ratioFloor = 1 << 20
        limits.maxRatio = 100
        func unpack(_ limits: UnpackLimits, into scratch: String) throws -> [PackedLayer.File] {
            try FileSystem.makeDirectories(scratch)
            var count = 0
            var bytes: Int64 = 0
            return try PackedLayer(name: "bomb.tar.gz", reference: "r").unpack(
                blob, size: size, into: scratch, count: &count, bytes: &bytes, limits: limits)
        }
        let error = #expect(throws: ModelPackError.self) { try unpack(limits, into: tmp.file("a")) }
        #expect(error.map { "\($0)" }?.contains("expands more than 100:1") == true, "\(String(describing: error))")
        // Within the limits, the same layer unpacks.
        #expect(try unpack(UnpackLimits(), into: tmp.file("b")).map(\.record.path) == ["weights.bin"])
    }
}

/// `getattr(GLOBAL, 'name')` is how protocol 4 pickles a classmethod (pandas' tz-aware
/// datetimes hold `zoneinfo.ZoneInfo._unpickle`): it is judged as the name it reaches. getattr on
/// anything else stays the blocklisted primitive.
@Suite struct StaticGetattrTests {
    static func stackGlobal(_ module: String, _ name: String) -> [UInt8] {
        [0x8c, UInt8(module.utf8.count)] + Array(module.utf8) + [0x8c, UInt8(name.utf8.count)] + Array(name.utf8)
            + [0x93]
    }
    static func string(_ s: String) -> [UInt8] { [0x8c, UInt8(s.utf8.count)] + Array(s.utf8) }

    @Test func aClassmethodOfAnAllowedClassIsSafe() {
        let pickle: [UInt8] =
            [0x80, 4] + Self.stackGlobal("builtins", "getattr") + Self.stackGlobal("zoneinfo", "ZoneInfo")
            + Self.string("_unpickle") + [0x86, 0x52] + Self.string("UTC") + [0x4b, 1, 0x86, 0x52, 0x2e]
        let r = PickleScannerTests.scan(bytes: pickle)
        #expect(r.verdict == .safe, "\(r.imports)")
        #expect(r.imports.map(\.qualifiedName).contains("zoneinfo.ZoneInfo._unpickle"))
    }

    @Test func getattrReachingTheBlocklistIsDangerous() {
        let pickle: [UInt8] =
            [0x80, 4] + Self.stackGlobal("builtins", "getattr") + Self.stackGlobal("pathlib", "os")
            + Self.string("system") + [0x86, 0x52] + Self.string("id") + [0x85, 0x52, 0x2e]
        let r = PickleScannerTests.scan(bytes: pickle)
        #expect(r.imports.contains { $0.qualifiedName == "pathlib.os.system" && $0.verdict == .dangerous })
    }

    @Test func getattrOnAComputedValueStaysDangerous() {
        // getattr((), 'a'): its first argument is no global, so nothing tells what it reaches.
        let dynamic: [UInt8] =
            [0x80, 4] + Self.stackGlobal("builtins", "getattr") + [0x29] + Self.string("a") + [0x86, 0x52, 0x2e]
        let d = PickleScannerTests.scan(bytes: dynamic)
        #expect(d.imports.contains { $0.qualifiedName == "builtins.getattr" && $0.verdict == .dangerous })
        #expect(d.verdict == .dangerous)
    }
}
