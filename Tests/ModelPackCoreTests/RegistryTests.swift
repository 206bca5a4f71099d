import Foundation
import Testing

@testable import ModelPackCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ImageReferenceTests {
    @Test func parsesHostsPortsTagsAndDigests() throws {
        let r = try ImageReference(parsing: "oci://127.0.0.1:5000/team/iris:1.0.0")
        #expect(r.registry == "127.0.0.1:5000" && r.repository == "team/iris" && r.tag == "1.0.0")
        #expect(r.isLoopback && r.text == "127.0.0.1:5000/team/iris:1.0.0")
        let hub = try ImageReference(parsing: "iris")
        #expect(hub.registry == "registry-1.docker.io" && hub.repository == "library/iris" && hub.tag == "latest")
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let pinned = try ImageReference(parsing: "ghcr.io/acme/models/iris@\(digest)")
        #expect(pinned.registry == "ghcr.io" && pinned.digest == digest && pinned.manifestReference == digest)
        #expect(!pinned.isLoopback)
        #expect(try ImageReference(parsing: "localhost/x").isLoopback)
    }

    @Test func refusesMalformedReferencesWithTheReason() {
        for (text, why) in [
            ("127.0.0.1:5000/Team/iris:1", "'Team' is not a repository name component"),
            ("127.0.0.1:5000/team/iris:-bad", "'-bad' is not a tag"),
            ("127.0.0.1:5000/team//iris", "empty path component"),
            ("127.0.0.1:99999/team/iris", "is not a host[:port]"),
            ("host.io/team/iris@sha256:abc", "is not a sha256:<64 hex> digest"),
            ("", "it is empty"),
        ] {
            #expect(throws: ModelPackError.self) { try ImageReference(parsing: text) }
            do { _ = try ImageReference(parsing: text) } catch {
                #expect("\(error)".contains(why), "\(text): \(error)")
            }
        }
    }

    /// inspect takes a file or a reference: an existing path is a file, oci:// is a reference, and a
    /// missing path is a reference only when it names a registry host.
    @Test func tellsReferencesFromPaths() {
        #expect(ImageReference.looksLikeReference("oci://models/iris:1", pathExists: true))
        #expect(!ImageReference.looksLikeReference("127.0.0.1:5000/a:1", pathExists: true))
        #expect(ImageReference.looksLikeReference("127.0.0.1:5000/a:1", pathExists: false))
        #expect(ImageReference.looksLikeReference("ghcr.io/acme/iris:1", pathExists: false))
        #expect(!ImageReference.looksLikeReference("models/iris.tar.gz", pathExists: false))
        #expect(!ImageReference.looksLikeReference("iris.zip", pathExists: false))
    }

    @Test func readsTheChallenge() throws {
        let c = try #require(
            AuthChallenge(#"Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull""#))
        #expect(c.scheme == "bearer" && c.parameters["realm"] == "https://auth.example/token")
        #expect(c.parameters["service"] == "reg" && c.parameters["scope"] == "repository:a/b:pull")
        #expect(AuthChallenge(#"Basic realm="x""#)?.scheme == "basic")
    }

    /// The older cnai form (ModelPack before v0.0.7) is read like the CNCF one.
    @Test func readsTheLegacyConfig() throws {
        let legacy =
            #"{"descriptor":{"name":"m","version":"1","created_at":"2025-01-01T00:00:00Z"},"config":{"format":"onnx"},"modelfs":{"type":"layers","diff_ids":["sha256:aa"]}}"#
        let summary = try #require(ModelArtifact.readConfig(Data(legacy.utf8)))
        #expect(summary.name == "m" && summary.diffIds == ["sha256:aa"] && summary.createdAt == "2025-01-01T00:00:00Z")
        #expect(ModelMediaType.parseLayer("application/vnd.cnai.model.weight.v1.tar")! == ("weight", "tar"))
    }
}

/// push, pull and inspect against a real distribution registry (Debian's docker-registry).
@Suite(.serialized) struct RegistryTests {
    static let iris = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples/iris-sklearn").path

    /// The iris example, with `extra` files beside it (weights, say).
    static func model(_ dir: TempDir, extra: [String: [UInt8]] = [:], interface: String? = nil) throws -> String {
        let root = dir.file("model")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for name in ["interface.py", "metadata.yaml", "requirements.txt", "model.joblib"] {
            try FileManager.default.copyItem(atPath: iris + "/" + name, toPath: root + "/" + name)
        }
        for (name, bytes) in extra { try Fixture.write(bytes, to: root + "/" + name) }
        if let interface {
            let original = try String(contentsOfFile: root + "/interface.py", encoding: .utf8)
            try Fixture.write(Array((original + interface).utf8), to: root + "/interface.py")
        }
        return root
    }

    static func build(_ source: String, _ output: String) throws {
        let result = try CLI.run(["build", source, "-o", output])
        try #require(result.status == 0, "build: \(result.stderr)")
    }

    /// `pull REF -o X.zip` of an artifact another client pushed gives the bundle `build` gives for
    /// the model directory `source`.
    static func expectPullGivesTheBuild(
        _ client: ClientEnvironment, _ ref: String, of source: String, in dir: TempDir
    ) throws {
        let pulled = try client.run(["pull", ref, "-o", dir.file("pulled.zip")])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        try build(source, dir.file("local.zip"))
        #expect(
            try BundleReader.inspect(dir.file("pulled.zip"), limits: UnpackLimits()).digest
                == BundleReader.inspect(dir.file("local.zip"), limits: UnpackLimits()).digest)
    }

    @Test func roundTripInEveryContainerGivesTheSameBytes() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let source = try Self.model(dir)
        for format in ContainerFormat.allCases {
            let bundle = dir.file("iris.\(format.fileExtension)")
            try Self.build(source, bundle)
            let reference = "\(registry.host)/team/iris:\(format.rawValue.replacingOccurrences(of: ".", with: "-"))"
            let push = try client.json(["push", bundle, reference])
            let pulled = dir.file("pulled.\(format.fileExtension)")
            let pull = try client.json(["pull", reference, "-o", pulled])
            #expect(push["bundleDigest"] as? String == pull["bundleDigest"] as? String)
            #expect(push["manifestDigest"] as? String == pull["manifestDigest"] as? String)
            #expect(try Fixture.read(pulled) == Fixture.read(bundle), "\(format): pulled bytes differ from the build")
            let verify = try CLI.run(["verify", pulled])
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            // A pull into a directory gives the files, verified, and the manifest.
            let unpacked = dir.file("unpacked-\(format.rawValue)")
            let unpack = try client.run(["pull", "oci://" + reference, "--unpack", unpacked])
            #expect(unpack.status == 0, "\(unpack.stderr)")
            #expect(
                TempDir.files(under: unpacked)
                    == [
                        ".modelpack/manifest.json", "interface.py", "metadata.yaml", "model.joblib", "requirements.txt",
                    ])
            #expect(try Fixture.read(unpacked + "/model.joblib") == Fixture.read(source + "/model.joblib"))
        }
        // Nothing was left beside the outputs.
        #expect(!dir.contents().contains { $0.contains(".modelpack-tmp") || $0.hasPrefix(".") })
    }

    /// The layout: CNCF media types, one raw layer per file whose digest is the file's SHA-256, and
    /// a config that validates against the ModelPack schema (with Python's jsonschema).
    @Test func theArtifactIsACNCFModelPackArtifact() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("iris.zip")
        try Self.build(try Self.model(dir), bundle)
        _ = try client.json(["push", bundle, "\(registry.host)/team/iris:1.0.0"])
        let manifest = try client.json(["inspect", "oci://\(registry.host)/team/iris:1.0.0", "--manifest-only"])
        #expect(manifest["artifactType"] as? String == "application/vnd.cncf.model.manifest.v1+json")
        #expect(manifest["configMediaType"] as? String == "application/vnd.cncf.model.config.v1+json")
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        let bundleManifest = try #require(manifest["bundle"] as? [String: Any])
        let files = try #require(bundleManifest["files"] as? [[String: Any]])
        for file in files {
            let layer = try #require(layers.first { $0["path"] as? String == file["path"] as? String })
            #expect(layer["digest"] as? String == "sha256:" + (file["sha256"] as! String))
            #expect((layer["mediaType"] as? String)?.hasSuffix(".v1.raw") == true)
        }
        let types = Dictionary(
            uniqueKeysWithValues: layers.map { ($0["path"] as? String ?? "", $0["mediaType"] as! String) })
        #expect(types["model.joblib"] == "application/vnd.cncf.model.weight.v1.raw")
        #expect(types["interface.py"] == "application/vnd.cncf.model.code.v1.raw")
        #expect(types["metadata.yaml"] == "application/vnd.cncf.model.doc.v1.raw")
        #expect(types[".modelpack/manifest.json"] == "application/vnd.modelpack.bundle.manifest.v1+json")
        // The config, fetched as any client would, against the published schema.
        let reference = try ImageReference(parsing: "\(registry.host)/team/iris:1.0.0")
        let rest = try RegistryClient(reference, push: false, options: RegistryOptions())
        let (data, _, _) = try #require(try rest.manifest("1.0.0"))
        let oci = try JSONDecoder().decode(OCIManifest.self, from: data)
        let config = try rest.smallBlob(try #require(oci.config), cap: 1 << 20)
        let configPath = dir.file("config.json")
        try Fixture.write(Array(config), to: configPath)
        guard PythonOracle.available(["jsonschema"]) else {
            if PythonOracle.required { Issue.record("jsonschema is not installed") }
            return
        }
        let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/registry/cncf-config-schema.json").path
        let script = dir.file("check.py")
        try Fixture.write(
            Array(
                """
                import json, sys, jsonschema
                schema = json.load(open(sys.argv[1])); config = json.load(open(sys.argv[2]))
                jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(config)
                print(config["descriptor"]["name"], config["descriptor"]["licenses"], config["modelfs"]["diffIds"][0])
                """.utf8), to: script)
        let (status, output) = try PythonOracle.run(script, [schema, configPath])
        #expect(status == 0, "\(output)")
        #expect(output.contains("iris-classifier ['BSD-3-Clause'] sha256:"))
        // The schema check is not vacuous: a config with a field the schema does not allow fails it.
        var broken = try #require(try JSONSerialization.jsonObject(with: config) as? [String: Any])
        broken["modelpack"] = true
        try Fixture.write(Array(try JSONSerialization.data(withJSONObject: broken)), to: configPath)
        #expect(try PythonOracle.run(script, [schema, configPath]).status != 0)
    }

    /// Unchanged files are never sent again; a second repository mounts instead of uploading.
    @Test func unchangedWeightsAreSharedAndMounted() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let weights = Fixture.noise(3 << 20, seed: 7)
        let v1 = dir.file("v1.tar")
        try Self.build(try Self.model(dir, extra: ["weights.bin": weights]), v1)
        let first = try client.json(["push", v1, "\(registry.host)/team/iris:1.0.0"])
        #expect(first["bytes"] as? Int ?? 0 > weights.count)
        // Only interface.py changes: one file blob is sent (plus the bundle manifest and config).
        let changed = TempDir()
        let v2 = dir.file("v2.tar")
        try Self.build(try Self.model(changed, extra: ["weights.bin": weights], interface: "\n# v2\n"), v2)
        let before = registry.requests().count
        let second = try client.json(["push", v2, "\(registry.host)/team/iris:1.0.1"])
        let blobs = try #require(second["blobs"] as? [[String: Any]])
        #expect(
            blobs.filter { $0["action"] as? String == "uploaded" }.map { $0["path"] as? String } == ["interface.py"])
        #expect(second["bytes"] as? Int ?? 0 < 2000)
        // The registry's own log agrees: three blob uploads finished (interface.py, the config and
        // the bundle manifest), none of them the weights.
        let uploads = registry.requests()[before...].filter { $0.hasPrefix("PUT /v2/team/iris/blobs/uploads/") }
        #expect(uploads.count == 3, "\(uploads)")
        let weightsDigest = "sha256:" + SHA256Stream.hex(of: weights)
        #expect(!uploads.contains { $0.contains(weightsDigest.replacingOccurrences(of: ":", with: "%3A")) })
        // Another repository of the same registry: mounted, nothing sent.
        let mark = registry.requests().count
        let mounted = try client.json(["push", v2, "\(registry.host)/other/iris:1.0.1", "--from", "team/iris"])
        let mountedBlobs = try #require(mounted["blobs"] as? [[String: Any]])
        #expect(mountedBlobs.allSatisfy { $0["action"] as? String == "mounted" }, "\(mountedBlobs)")
        let log = registry.requests()[mark...]
        // Five files, the config and the bundle manifest: all mounted.
        #expect(log.filter { $0.contains("mount=") && $0.hasSuffix(" 201") }.count == 7, "\(log)")
        #expect(!log.contains { $0.hasPrefix("PATCH") })
        let pulled = dir.file("pulled.tar")
        _ = try client.json(["pull", "\(registry.host)/other/iris:1.0.1", "-o", pulled])
        #expect(try Fixture.read(pulled) == Fixture.read(v2))
        // Without --from, the repository each blob was last pushed to or pulled from is remembered.
        let remembered = try client.json(["push", v2, "\(registry.host)/third/iris:1.0.1"])
        let rememberedBlobs = try #require(remembered["blobs"] as? [[String: Any]])
        #expect(rememberedBlobs.allSatisfy { $0["action"] as? String == "mounted" }, "\(rememberedBlobs)")
        #expect(remembered["bytes"] as? Int ?? 0 < 2000)
        // A client that remembers nothing uploads.
        let fresh = try ClientEnvironment().json(["push", v2, "\(registry.host)/fourth/iris:1.0.1"])
        #expect((fresh["blobs"] as? [[String: Any]])?.contains { $0["action"] as? String == "uploaded" } == true)
        // diff takes references too: the pushed 1.0.1 is the directory it was built from, and
        // differs from 1.0.0 in interface.py alone.
        let same = try client.run(["diff", "oci://\(registry.host)/team/iris:1.0.1", changed.file("model")])
        #expect(same.status == 0 && same.stdout.contains("same: "), "\(same.stdout)\(same.stderr)")
        let versions = try client.run([
            "diff", "oci://\(registry.host)/team/iris:1.0.0", "oci://\(registry.host)/team/iris:1.0.1", "--format",
            "json",
        ])
        #expect(versions.status == 1, "\(versions.stderr)")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(versions.stdout.utf8)) as? [String: Any])
        #expect((document["files"] as? [[String: Any]])?.compactMap { $0["path"] as? String } == ["interface.py"])
    }

    @Test func signedPushAndPullRequiringTheSignature() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("iris.tar.gz")
        try Self.build(try Self.model(dir), bundle)
        for name in ["alice", "mallory"] {
            let keygen = try CLI.run(["keygen", "-o", dir.file(name + ".key")])
            try #require(keygen.status == 0, "\(keygen.stderr)")
        }
        let signed = try CLI.run(["sign", bundle, "--key", dir.file("alice.key")])
        try #require(signed.status == 0, "\(signed.stderr)")
        let ref = "\(registry.host)/team/iris:signed"
        let push = try client.json(["push", bundle, ref])
        #expect(push["signatureDigest"] as? String != nil)
        // distribution 2.8 has no referrers API: the signature sits in the sha256-<hex> index.
        let manifestDigest = try #require(push["manifestDigest"] as? String)
        #expect(
            registry.requests().contains {
                $0.hasPrefix("PUT /v2/team/iris/manifests/sha256-\(manifestDigest.dropFirst(7))")
            })
        let inspect = try client.json(["inspect", "oci://" + ref, "--manifest-only"])
        #expect((inspect["signature"] as? [String: Any])?["state"] as? String == "present")
        let good = try client.run([
            "pull", ref, "-o", dir.file("good.tar.gz"), "--require-signature", "--key", dir.file("alice.key.pub"),
        ])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("signature: valid"))
        let wrong = try client.run([
            "pull", ref, "-o", dir.file("wrong.tar.gz"), "--require-signature", "--key", dir.file("mallory.key.pub"),
        ])
        #expect(wrong.status == 1 && wrong.stderr.contains("refused: bad signature"), "\(wrong.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("wrong.tar.gz")))
        // An unsigned artifact (another model: the same one would be the same, signed, manifest)
        // is refused too, before anything is written.
        let other = TempDir()
        let unsignedBundle = dir.file("other.tar")
        try Self.build(try Self.model(other, extra: ["NOTES.md": Array("v2\n".utf8)]), unsignedBundle)
        _ = try client.json(["push", unsignedBundle, "\(registry.host)/team/iris:unsigned"])
        let unsigned = try client.run([
            "pull", "\(registry.host)/team/iris:unsigned", "--unpack", dir.file("unsigned"), "--require-signature",
            "--key", dir.file("alice.key.pub"),
        ])
        #expect(unsigned.status == 1 && unsigned.stderr.contains("refused: not signed"), "\(unsigned.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("unsigned")))
    }

    /// The signature travels with the model: pull -o writes BUNDLE.sig and pull --unpack keeps it
    /// in .modelpack/, so verify --key works offline right after; inspect oci:// takes the keys
    /// (full audit and --manifest-only); push refuses a BUNDLE.sig of other content, sending nothing.
    @Test func theSignatureTravelsThroughTheRegistry() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("iris.tar.gz")
        try Self.build(try Self.model(dir), bundle)
        for name in ["alice", "mallory"] {
            try #require(try CLI.run(["keygen", "-o", dir.file(name + ".key")]).status == 0)
        }
        try #require(try CLI.run(["sign", bundle, "--key", dir.file("alice.key")]).status == 0)
        let ref = "\(registry.host)/team/iris:travels"
        _ = try client.json(["push", bundle, ref])

        let pulled = try client.json(["pull", ref, "-o", dir.file("copy.tar.gz")])
        #expect(pulled["signatureFile"] as? String == dir.file("copy.tar.gz.sig"))
        #expect(try Fixture.read(dir.file("copy.tar.gz.sig")) == (try Fixture.read(bundle + ".sig")))
        let verified = try CLI.run(["verify", dir.file("copy.tar.gz"), "--key", dir.file("alice.key.pub")])
        #expect(verified.status == 0 && verified.stdout.contains("SIGNATURE valid"), "\(verified)")
        let unpacked = try client.run(["pull", ref, "--unpack", dir.file("unpacked")])
        #expect(unpacked.status == 0 && unpacked.stdout.contains("signature written to"), "\(unpacked)")
        let offline = try CLI.run(["verify", dir.file("unpacked"), "--key", dir.file("alice.key.pub")])
        #expect(offline.status == 0 && offline.stdout.contains("SIGNATURE valid"), "\(offline)")

        let audit = try client.json(["inspect", "oci://" + ref, "--key", dir.file("alice.key.pub")])
        #expect((audit["signature"] as? [String: Any])?["state"] as? String == "valid")
        let quick = try client.json([
            "inspect", "oci://" + ref, "--manifest-only", "--key", dir.file("mallory.key.pub"),
        ])
        #expect((quick["signature"] as? [String: Any])?["state"] as? String == "invalid")

        // A BUNDLE.sig left from other content: push says so in one line and sends nothing.
        let other = TempDir()
        let changed = dir.file("changed.tar")
        try Self.build(try Self.model(other, extra: ["NOTES.md": Array("v2\n".utf8)]), changed)
        try Fixture.write(try Fixture.read(bundle + ".sig"), to: changed + ".sig")
        let before = registry.requests().count
        let refused = try client.run(["push", changed, "\(registry.host)/team/iris:stale"])
        #expect(refused.status == 1, "\(refused)")
        let line = refused.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!line.contains("\n") && line.contains("\(changed).sig") && line.contains("not this bundle"), "\(line)")
        #expect(registry.requests().count == before)
    }

    /// The BOM and the provenance beside a bundle travel as referrers of their own artifact types
    /// (in the sha256-<hex> index on a registry without the referrers API): push attaches them,
    /// inspect oci:// lists them, pull -o writes them back beside the bundle, and a policy that
    /// requires them refuses an artifact without them, or with a provenance its keys did not sign.
    @Test func theBOMAndTheProvenanceTravelAsReferrers() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("iris.tar")
        let model = try Self.model(dir)
        for name in ["alice", "mallory"] {
            try #require(try CLI.run(["keygen", "-o", dir.file(name + ".key")]).status == 0)
        }
        let built = try CLI.run([
            "build", model, "-o", bundle, "--provenance", bundle + ".provenance.json", "--provenance-key",
            dir.file("alice.key"),
        ])
        try #require(built.status == 0, "\(built)")
        try #require(try CLI.run(["bom", bundle, "-o", bundle + ".bom.json"]).status == 0)
        try #require(try CLI.run(["sign", bundle, "--key", dir.file("alice.key")]).status == 0)
        let ref = "\(registry.host)/team/iris:attached"
        let push = try client.json(["push", bundle, ref])
        let pushed = try #require(push["referrers"] as? [[String: Any]])
        #expect(pushed.compactMap { $0["kind"] as? String } == ["signature", "bom", "provenance"])
        #expect(
            pushed.compactMap { $0["artifactType"] as? String } == [
                "application/vnd.modelpack.signature.v1+json", "application/vnd.cyclonedx+json",
                "application/vnd.in-toto+json",
            ])
        // The registry's own listing (the fallback tag's index) holds the three.
        let manifestDigest = try #require(push["manifestDigest"] as? String)
        let index = try client.run([
            "inspect", "oci://\(registry.host)/team/iris:sha256-\(manifestDigest.dropFirst(7))",
        ])
        #expect(index.status != 0, "an index of referrers is no model: \(index)")
        let quick = try client.json(["inspect", "oci://" + ref, "--manifest-only"])
        let listed = try #require(quick["referrers"] as? [[String: Any]])
        #expect(Set(listed.compactMap { $0["kind"] as? String }) == ["signature", "bom", "provenance"])
        #expect(
            Set(listed.compactMap { $0["digest"] as? String }) == Set(pushed.compactMap { $0["digest"] as? String }))
        let audit = try client.run(["inspect", "oci://" + ref])
        #expect(
            audit.stdout.contains("referrers  signature sha256:") && audit.stdout.contains("bom sha256:"), "\(audit)")

        let pulled = try client.json(["pull", ref, "-o", dir.file("copy.tar")])
        #expect(
            pulled["attachmentFiles"] as? [String] == [
                dir.file("copy.tar.bom.json"), dir.file("copy.tar.provenance.json"),
            ])
        for suffix in [".bom.json", ".provenance.json"] {
            #expect(try Fixture.read(dir.file("copy.tar" + suffix)) == (try Fixture.read(bundle + suffix)))
        }

        // Another model with nothing attached, and the same policy with each key.
        let elsewhere = TempDir()
        let bare = dir.file("other.tar")
        try Self.build(try Self.model(elsewhere, extra: ["NOTES.md": Array("v2\n".utf8)]), bare)
        _ = try client.json(["push", bare, "\(registry.host)/team/iris:bare"])
        for key in ["alice", "mallory"] {
            try Fixture.write(
                Array(
                    """
                    modelpack_policy: 1
                    registries:
                      - prefix: \(registry.host)/team
                        keys: [\(key).key.pub]
                        require_bom: true
                        require_provenance: true
                    """.utf8), to: dir.file(key + ".yaml"))
        }
        let allowed = try client.run(["pull", ref, "-o", dir.file("a.tar"), "--policy", dir.file("alice.yaml")])
        #expect(allowed.status == 0, "\(allowed)")
        let unsignedBy = try client.run(["pull", ref, "-o", dir.file("b.tar"), "--policy", dir.file("mallory.yaml")])
        #expect(
            unsignedBy.status == 1
                && unsignedBy.stderr.contains("no provenance (the provenance is not signed by a trusted key)"),
            "\(unsignedBy)")
        let missing = try client.run([
            "pull", "\(registry.host)/team/iris:bare", "-o", dir.file("c.tar"), "--policy", dir.file("alice.yaml"),
        ])
        #expect(missing.status == 1 && missing.stderr.contains("it has no ML-BOM (none is attached)"), "\(missing)")
        #expect(!FileSystem.exists(dir.file("b.tar")) && !FileSystem.exists(dir.file("c.tar")))

        // A BOM of other content beside a bundle: push refuses it in one line and sends nothing.
        try Fixture.write(try Fixture.read(bundle + ".bom.json"), to: bare + ".bom.json")
        let before = registry.requests().count
        let stale = try client.run(["push", bare, "\(registry.host)/team/iris:stale"])
        let line = stale.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            stale.status == 1 && !line.contains("\n") && line.contains("\(bare).bom.json: the BOM describes"), "\(line)"
        )
        #expect(registry.requests().count == before)
    }

    /// A trust policy's registry rules: the longest prefix that matches decides; pull refuses
    /// what it does not allow before writing anything.
    @Test func aTrustPolicyGovernsPull() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("iris.tar")
        try Self.build(try Self.model(dir), bundle)
        try #require(try CLI.run(["keygen", "-o", dir.file("alice.key")]).status == 0)
        // Another model for the unsigned tags (the same one would be the same, signed, manifest).
        let elsewhere = TempDir()
        let unsigned = dir.file("other.tar")
        try Self.build(try Self.model(elsewhere, extra: ["NOTES.md": Array("v2\n".utf8)]), unsigned)
        _ = try client.json(["push", unsigned, "\(registry.host)/team/iris:unsigned"])
        _ = try client.json(["push", unsigned, "\(registry.host)/lab/iris:unsigned"])
        try #require(try CLI.run(["sign", bundle, "--key", dir.file("alice.key")]).status == 0)
        _ = try client.json(["push", bundle, "\(registry.host)/team/iris:signed"])
        try Fixture.write(
            Array(
                """
                modelpack_policy: 1
                registries:
                  - prefix: \(registry.host)/team
                    keys: [alice.key.pub]
                    require_signature: true
                """.utf8), to: dir.file("policy.yaml"))
        let policy = ["--policy", dir.file("policy.yaml")]
        let refused = try client.run(["pull", "\(registry.host)/team/iris:unsigned", "-o", dir.file("a.tar")] + policy)
        #expect(refused.status == 1 && refused.stderr.contains("refused by the trust policy"), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("a.tar")))
        let signed = try client.run(["pull", "\(registry.host)/team/iris:signed", "-o", dir.file("b.tar")] + policy)
        #expect(signed.status == 0 && signed.stdout.contains("signature: valid"), "\(signed)")
        // Another repository: no rule names it, and the default asks nothing.
        let other = try client.run(["pull", "\(registry.host)/lab/iris:unsigned", "-o", dir.file("c.tar")] + policy)
        #expect(other.status == 0, "\(other)")
    }

    @Test func basicAuthThroughLoginAndAWrongPassword() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry(auth: .htpasswd(user: "alice", password: "s3cret"))
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("iris.tar")
        try Self.build(try Self.model(dir), bundle)
        let anonymous = try client.run(["push", bundle, "\(registry.host)/team/iris:1"])
        #expect(anonymous.status == 1, "\(anonymous.stderr)")
        #expect(anonymous.stderr.contains("not authorized") && anonymous.stderr.contains("modelpack login"))
        let wrong = try client.run(["login", registry.host, "-u", "alice", "--password-stdin"], stdin: "nope\n")
        #expect(wrong.status == 1 && wrong.stderr.contains("refused the user name or password"), "\(wrong.stderr)")
        #expect(!FileManager.default.fileExists(atPath: client.dockerConfig + "/config.json"))
        let login = try client.run(["login", registry.host, "-u", "alice", "--password-stdin"], stdin: "s3cret\n")
        #expect(login.status == 0, "\(login.stderr)")
        let config = try String(contentsOfFile: client.dockerConfig + "/config.json", encoding: .utf8)
        #expect(config.contains(Data("alice:s3cret".utf8).base64EncodedString()))
        let push = try client.run(["push", bundle, "\(registry.host)/team/iris:1"])
        #expect(push.status == 0, "\(push.stderr)")
        #expect(!(push.stdout + push.stderr).contains("s3cret"))
        let pull = try client.run(["pull", "\(registry.host)/team/iris:1", "-o", dir.file("pulled.tar")])
        #expect(pull.status == 0, "\(pull.stderr)")
    }

    /// A token that lapses during a long chunked upload is fetched again and the push completes.
    /// A registry behind the Bearer token server, and a client whose Docker configuration holds
    /// alice's credentials for it.
    static func tokenRegistry(firstLifetime: Int) throws -> (TestRegistry, ClientEnvironment) {
        let registry = try TestRegistry(auth: .token(user: "alice", password: "s3cret", firstLifetime: firstLifetime))
        let client = ClientEnvironment()
        try FileManager.default.createDirectory(atPath: client.dockerConfig, withIntermediateDirectories: true)
        let auth = Data("alice:s3cret".utf8).base64EncodedString()
        try Fixture.write(
            Array(#"{"auths":{"\#(registry.host)":{"auth":"\#(auth)"}}}"#.utf8),
            to: client.dockerConfig + "/config.json")
        return (registry, client)
    }

    @Test func bearerTokensAreRenewedDuringALongUpload() throws {
        guard TestRegistry.check(), PythonOracle.available(["cryptography"]) else {
            if PythonOracle.required { Issue.record("python cryptography is not installed") }
            return
        }
        let (registry, client) = try Self.tokenRegistry(firstLifetime: -59)
        let dir = TempDir()
        let bundle = dir.file("big.tar")
        try Self.build(try Self.model(dir, extra: ["weights.bin": Fixture.noise(48 << 20, seed: 3)]), bundle)
        let push = try client.run([
            "push", bundle, "\(registry.host)/team/big:1", "--chunk-size", "64KiB", "--ca-file", registry.caFile,
        ])
        #expect(push.status == 0, "\(push.stderr)")
        let tokens = registry.tokenRequests()
        #expect(tokens.count >= 2, "the lapsed token was not renewed: \(tokens)")
        #expect(
            tokens.allSatisfy { $0.contains("\"authorized\": true") && $0.contains("repository:team/big:pull,push") })
        let pulled = dir.file("pulled.tar")
        let pull = try client.run(["pull", "\(registry.host)/team/big:1", "-o", pulled, "--ca-file", registry.caFile])
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(try Fixture.read(pulled) == Fixture.read(bundle))
        // Wrong credentials at the token service: one line naming the reference.
        try Fixture.write(
            Array(#"{"auths":{"\#(registry.host)":{"auth":"\#(Data("alice:x".utf8).base64EncodedString())"}}}"#.utf8),
            to: client.dockerConfig + "/config.json")
        let refused = try client.run([
            "pull", "\(registry.host)/team/big:1", "-o", dir.file("x.tar"), "--ca-file", registry.caFile,
        ])
        #expect(refused.status == 1 && refused.stderr.contains("\(registry.host)/team/big:1: not authorized"))
        #expect(refused.stderr.split(separator: "\n").count == 1)
    }

    /// A token that has lapsed by the time it is used (a slow or loaded machine) is fetched once
    /// more; the push and pull go through. Docker does the same.
    @Test func aTokenLapsedBeforeItsFirstUseIsFetchedOnceMore() throws {
        guard TestRegistry.check(), PythonOracle.available(["cryptography"]) else {
            if PythonOracle.required { Issue.record("python cryptography is not installed") }
            return
        }
        let (registry, client) = try Self.tokenRegistry(firstLifetime: -120)
        let dir = TempDir()
        let bundle = dir.file("iris.tar")
        try Self.build(try Self.model(dir), bundle)
        let push = try client.run(["push", bundle, "\(registry.host)/team/iris:1", "--ca-file", registry.caFile])
        #expect(push.status == 0, "\(push.stderr)")
        #expect(registry.tokenRequests().count == 2, "\(registry.tokenRequests())")
        let pull = try client.run([
            "pull", "\(registry.host)/team/iris:1", "-o", dir.file("pulled.tar"), "--ca-file", registry.caFile,
        ])
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(try Fixture.read(dir.file("pulled.tar")) == Fixture.read(bundle))
    }

    @Test func registryErrorsAreOneLineNamingTheReference() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("iris.tar")
        try Self.build(try Self.model(dir), bundle)
        _ = try client.json(["push", bundle, "\(registry.host)/team/iris:1"])
        let missing = try client.run(["pull", "\(registry.host)/team/iris:9", "-o", dir.file("x.tar")])
        #expect(missing.status == 1 && missing.stderr.contains("\(registry.host)/team/iris:9: tag '9' not found"))
        let noRepo = try client.run(["inspect", "oci://\(registry.host)/team/nothing:1", "--manifest-only"])
        #expect(noRepo.status == 1 && noRepo.stderr.contains("not found"), "\(noRepo.stderr)")
        let badRef = try client.run(["pull", "\(registry.host)/Team/iris:1", "-o", dir.file("x.tar")])
        #expect(badRef.status == 2 && badRef.stderr.contains("is not a registry reference"))
        let closed = try TestRegistry.freePort()
        let refused = try client.run(["pull", "127.0.0.1:\(closed)/team/iris:1", "-o", dir.file("x.tar"), "--json"])
        #expect(refused.status == 3 && refused.stderr.contains("cannot connect to 127.0.0.1:\(closed)"))
        for result in [missing, noRepo, badRef, refused] {
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("x.tar")))
    }

    /// A registry whose certificate comes from a private CA: a CA file that did not sign it is a
    /// one-line TLS error that says how to trust it, as is a file that holds no certificate; with
    /// its CA in `--ca-file`, push, inspect and pull go over TLS (the registry speaks nothing else).
    @Test func aPrivateCAIsTrustedThroughCAFile() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry(tls: true)
        let other = try TestRegistry(tls: true)  // its CA did not sign the first one's certificate
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("iris.tar")
        try Self.build(try Self.model(dir), bundle)
        let reference = "\(registry.host)/team/iris:1"
        let untrusted = try client.run(["push", bundle, reference, "--ca-file", other.caFile])
        #expect(untrusted.status == 3, "\(untrusted.stderr)")
        #expect(untrusted.stderr.contains(reference) && untrusted.stderr.contains("TLS with \(registry.host) failed"))
        #expect(untrusted.stderr.contains("--ca-file"), "\(untrusted.stderr)")
        try Fixture.write(Array("not a certificate\n".utf8), to: dir.file("junk.pem"))
        let junk = try client.run(["push", bundle, reference, "--ca-file", dir.file("junk.pem")])
        #expect(junk.status != 0 && junk.stderr.contains("CA file"), "\(junk.stderr)")
        let missing = try client.run(["push", bundle, reference, "--ca-file", dir.file("none.pem")])
        #expect(missing.status == 2 && missing.stderr.contains("--ca-file"), "\(missing.stderr)")
        for result in [untrusted, junk, missing] {
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
        let push = try client.json(["push", bundle, reference, "--ca-file", registry.caFile])
        #expect(push["bundleDigest"] as? String == (try BundleReader.inspect(bundle, limits: UnpackLimits()).digest))
        let inspect = try client.json([
            "inspect", "oci://" + reference, "--manifest-only", "--ca-file", registry.caFile,
        ])
        #expect(inspect["manifestDigest"] as? String == push["manifestDigest"] as? String)
        _ = try client.json(["pull", reference, "-o", dir.file("pulled.tar"), "--ca-file", registry.caFile])
        #expect(try Fixture.read(dir.file("pulled.tar")) == Fixture.read(bundle))
    }

    /// Files lying as they are in the bundle (a plain tar) are uploaded `--concurrency` at a time:
    /// with 3, the chunks of three blobs reach the registry interleaved; with 1, one blob after
    /// the other. Either way the pull is the pushed bundle.
    @Test(arguments: [1, 3]) func blobsArePushedConcurrently(concurrency: Int) throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("shards.tar")
        var shards: [String: [UInt8]] = [:]
        for i in 0..<3 { shards["shard-\(i).bin"] = Fixture.noise(1 << 20, seed: UInt64(40 + i)) }
        try Self.build(try Self.model(dir, extra: shards), bundle)
        let push = try client.json([
            "push", bundle, "\(registry.host)/team/shards:1", "--chunk-size", "64KiB", "--concurrency",
            String(concurrency),
        ])
        #expect((push["blobs"] as? [[String: Any]])?.filter { $0["action"] as? String == "uploaded" }.count == 7)
        // The upload session of each PATCH, in the order the registry received them.
        let sessions = registry.requests().filter { $0.hasPrefix("PATCH ") }.map {
            $0.split(separator: "?")[0].split(separator: "/").last.map(String.init) ?? ""
        }
        #expect(sessions.count == 3 * 16 + 2, "\(sessions)")  // and model.joblib's 75 KiB in 2
        let switches = zip(sessions, sessions.dropFirst()).filter { $0 != $1 }.count
        if concurrency == 1 {
            #expect(switches == 3, "\(sessions)")
        } else {
            #expect(switches > 3, "\(sessions)")
        }
        _ = try client.json(["pull", "\(registry.host)/team/shards:1", "-o", dir.file("pulled.tar")])
        #expect(try Fixture.read(dir.file("pulled.tar")) == Fixture.read(bundle))
    }

    /// `--monolithic` (what ghcr.io, Google's and ECR get anyway): every blob in one PUT, none in
    /// PATCH chunks, from a tar's byte ranges and, for a compressed bundle, through a spooled
    /// file; the pull is the pushed bundle either way.
    @Test(arguments: ["tar", "tar.gz"]) func monolithicUploadsSendNoChunks(container: String) throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("big." + container)
        try Self.build(try Self.model(dir, extra: ["weights.bin": Fixture.noise(1 << 20, seed: 51)]), bundle)
        _ = try client.json([
            "push", bundle, "\(registry.host)/team/whole:1", "--chunk-size", "64KiB", "--monolithic",
        ])
        let requests = registry.requests()
        #expect(!requests.contains { $0.hasPrefix("PATCH ") }, "\(requests)")
        #expect(requests.filter { $0.hasPrefix("PUT /v2/team/whole/blobs/uploads/") }.count == 7)
        #expect(
            (try? FileManager.default.contentsOfDirectory(atPath: client.cache + "/spool"))?.isEmpty ?? true,
            "a spooled file was left")
        _ = try client.json(["pull", "\(registry.host)/team/whole:1", "-o", dir.file("pulled." + container)])
        #expect(try Fixture.read(dir.file("pulled." + container)) == Fixture.read(bundle))
    }

    /// A bundle altered after it was built: push hashes each file as it streams it and abandons
    /// the upload before its closing PUT, so the registry never holds the altered bytes under the
    /// manifest's digest and the tag is not created; in one PUT (a small file) or in chunks.
    @Test(arguments: [32 << 10, 1 << 20]) func anAlteredBundleIsNotPushed(size: Int) throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("altered.tar")
        let weights = Fixture.noise(size, seed: 21)
        try Self.build(try Self.model(dir, extra: ["weights.bin": weights]), bundle)
        let record = try #require(
            try BundleReader.inspect(bundle, limits: UnpackLimits()).manifest.files.first { $0.path == "weights.bin" })
        var bytes = try Fixture.read(bundle)
        let start = try #require(
            (0...(bytes.count - 64)).first { bytes[$0..<$0 + 64].elementsEqual(weights[0..<64]) })
        bytes[start + size / 2] ^= 0x01
        try Fixture.write(bytes, to: bundle)
        let push = try client.run(["push", bundle, "\(registry.host)/team/altered:1", "--chunk-size", "64KiB"])
        #expect(push.status == 1 && push.stderr.split(separator: "\n").count == 1, "\(push.stderr)")
        #expect(push.stderr.contains("weights.bin"), "\(push.stderr)")
        #expect(!FileManager.default.fileExists(atPath: registry.blobFile("sha256:" + record.sha256)))
        #expect(registry.requests().contains { $0.hasPrefix("DELETE /v2/team/altered/blobs/uploads/") })
        #expect(!registry.requests().contains { $0.hasPrefix("PUT /v2/team/altered/manifests/") })
    }

    /// A blob altered on the registry's disk is refused with its digest named; nothing is written
    /// and nothing enters the cache. A blob gone from the registry is named too.
    @Test func aCorruptOrMissingBlobIsRefused() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("iris.tar")
        try Self.build(try Self.model(dir), bundle)
        _ = try client.json(["push", bundle, "\(registry.host)/team/iris:1"])
        let manifest = try BundleReader.inspect(bundle, limits: UnpackLimits()).manifest
        let weights = try #require(manifest.files.first { $0.path == "model.joblib" })
        let digest = "sha256:" + weights.sha256
        let stored = registry.blobFile(digest)
        var bytes = try Fixture.read(stored)
        bytes[bytes.count / 2] ^= 0xff
        try Fixture.write(bytes, to: stored)
        let pull = try client.run(["pull", "\(registry.host)/team/iris:1", "-o", dir.file("pulled.tar")])
        #expect(pull.status == 1 && pull.stderr.contains("blob \(digest) does not match its digest"), "\(pull.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("pulled.tar")))
        #expect(!FileManager.default.fileExists(atPath: client.cache + "/blobs/sha256/" + weights.sha256))
        try FileManager.default.removeItem(atPath: stored)
        let gone = try client.run(["pull", "\(registry.host)/team/iris:1", "--unpack", dir.file("out")])
        #expect(gone.status != 0 && gone.stderr.contains(digest), "\(gone.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("out")))
    }

    /// A cached blob that no longer matches its digest (the cache is not fsynced: a crash can leave
    /// one damaged) is caught as the output is written from it, removed and fetched again: the
    /// pull succeeds with the pushed bytes, to a bundle and to a directory.
    @Test func aDamagedCachedBlobIsFetchedAgain() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("big.tar")
        let weights = Fixture.noise(3 << 20, seed: 31)
        try Self.build(try Self.model(dir, extra: ["weights.bin": weights]), bundle)
        _ = try client.json(["push", bundle, "\(registry.host)/team/big:1"])
        _ = try client.json(["pull", "\(registry.host)/team/big:1", "-o", dir.file("first.tar")])
        let record = try #require(
            try BundleReader.inspect(bundle, limits: UnpackLimits()).manifest.files.first { $0.path == "weights.bin" })
        let cached = client.cache + "/blobs/sha256/" + record.sha256
        for (i, target) in [["-o", dir.file("again.tar")], ["--unpack", dir.file("again")]].enumerated() {
            var bytes = try Fixture.read(cached)
            bytes[1000 + i] ^= 0xff
            try Fixture.write(bytes, to: cached)
            let pull = try client.json(["pull", "\(registry.host)/team/big:1"] + target)
            let blobs = try #require(pull["blobs"] as? [[String: Any]])
            let fetched = try #require(blobs.first { $0["path"] as? String == "weights.bin" })
            #expect(fetched["action"] as? String == "downloaded" && fetched["bytes"] as? Int == weights.count)
            #expect(try Fixture.read(cached) == weights)
        }
        #expect(try Fixture.read(dir.file("again.tar")) == Fixture.read(bundle))
        #expect(try Fixture.read(dir.file("again/weights.bin")) == weights)
    }

    /// The registry killed in the middle of a push: the push fails on one line, the tag is not
    /// created, and the next push (registry back) completes.
    @Test func aRegistryKilledMidPushThenTheNextRunCompletes() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("big.tar")
        // 256 MiB in 64 KiB chunks: long enough that the kill lands mid-upload even when the test's
        // polling thread is starved by the rest of the suite (at 64 MiB, a loaded CI run once saw
        // the whole push finish first).
        try Self.build(try Self.model(dir, extra: ["weights.bin": Fixture.noise(256 << 20, seed: 5)]), bundle)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["push", bundle, "\(registry.host)/team/big:1", "--chunk-size", "64KiB"]
        var env = ProcessInfo.processInfo.environment
        env.merge(client.variables) { $1 }
        process.environment = env
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Kill it once chunks of the weights are flowing.
        for _ in 0..<400 where !registry.requests().contains(where: { $0.hasPrefix("PATCH") }) { usleep(10_000) }
        registry.stop()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0, "the push survived a dead registry")
        #expect(
            message.split(separator: "\n").count == 1 && message.contains("\(registry.host)/team/big:1"), "\(message)")
        try registry.start()
        let tag = try client.run(["inspect", "oci://\(registry.host)/team/big:1", "--manifest-only"])
        #expect(tag.status == 1, "a failed push left a tag")
        let again = try client.run(["push", bundle, "\(registry.host)/team/big:1"])
        #expect(again.status == 0, "\(again.stderr)")
        let pulled = dir.file("pulled.tar")
        _ = try client.json(["pull", "\(registry.host)/team/big:1", "-o", pulled])
        #expect(try Fixture.read(pulled) == Fixture.read(bundle))
    }

    /// The registry killed in the middle of a pull: nothing is written; the next pull continues the
    /// blob with a Range request from where it stopped.
    @Test func aRegistryKilledMidPullThenTheNextRunResumes() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("big.tar")
        let size = 256 << 20
        try Self.build(try Self.model(dir, extra: ["weights.bin": Fixture.noise(size, seed: 9)]), bundle)
        _ = try client.json(["push", bundle, "\(registry.host)/team/big:1"])
        let weights = try #require(
            try BundleReader.inspect(bundle, limits: UnpackLimits()).manifest.files.first { $0.path == "weights.bin" })
        let partial = client.cache + "/blobs/sha256/" + weights.sha256 + ".partial"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["pull", "\(registry.host)/team/big:1", "-o", dir.file("pulled.tar")]
        var env = ProcessInfo.processInfo.environment
        env.merge(client.variables) { $1 }
        process.environment = env
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<1000 {
            if let size = try? FileSystem.lstatInfo(partial)?.size, size > 1 << 20 { break }
            usleep(2_000)
        }
        registry.stop()
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(!FileManager.default.fileExists(atPath: dir.file("pulled.tar")))
        let kept = try #require(try FileSystem.lstatInfo(partial)?.size)
        #expect(kept > 0 && kept < Int64(size))
        try registry.start()
        let pull = try client.json(["pull", "\(registry.host)/team/big:1", "-o", dir.file("pulled.tar")])
        let blobs = try #require(pull["blobs"] as? [[String: Any]])
        let resumed = try #require(blobs.first { $0["path"] as? String == "weights.bin" })
        #expect(resumed["bytes"] as? Int == size - Int(kept), "the pull started over instead of resuming")
        #expect(try Fixture.read(dir.file("pulled.tar")) == Fixture.read(bundle))
    }

    /// The connection lost in the middle of a blob: the same pull asks for the rest with a Range
    /// request and completes, each byte received once. When the registry then answers with the
    /// whole blob instead of the range, the blob is started over, and the bundle is still the
    /// pushed one.
    @Test(arguments: [false, true]) func aConnectionLostMidBlobIsResumedInTheSameRun(ignoreRange: Bool) throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("big.tar")
        let size = 8 << 20
        let cut = 3 << 20
        try Self.build(try Self.model(dir, extra: ["weights.bin": Fixture.noise(size, seed: 11)]), bundle)
        _ = try client.json(["push", bundle, "\(registry.host)/team/big:1"])
        let proxy = try CuttingProxy(upstream: registry.host, cut: cut, ignoreRange: ignoreRange)
        let pull = try client.json(["pull", "\(proxy.host)/team/big:1", "-o", dir.file("pulled.tar")])
        #expect(try Fixture.read(dir.file("pulled.tar")) == Fixture.read(bundle))
        let blobs = try #require(pull["blobs"] as? [[String: Any]])
        let weights = try #require(blobs.first { $0["path"] as? String == "weights.bin" })
        #expect(weights["bytes"] as? Int == (ignoreRange ? cut + size : size))
        let gets = proxy.requests().filter { ($0["sent"] as? Int ?? 0) >= cut }
        #expect(gets.count == 2, "\(proxy.requests())")
        #expect(gets.first?["cut"] as? Bool == true && gets.first?["range"] is NSNull)
        #expect(gets.last?["range"] as? String == "bytes=\(cut)-")
        #expect(gets.last?["status"] as? Int == (ignoreRange ? 200 : 206))
    }

    /// A tag that names an image index: pull and inspect follow it to its one model manifest (by
    /// artifactType, beside an entry of another type); an index of two models is refused, naming
    /// the digests to choose from.
    @Test func anImageIndexIsFollowedToItsModel() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("iris.tar")
        try Self.build(try Self.model(dir), bundle)
        let push = try client.json(["push", bundle, "\(registry.host)/team/iris:1"])
        let digest = try #require(push["manifestDigest"] as? String)
        var options = RegistryOptions()
        options.environment = client.variables
        func putIndex(_ tag: String, _ types: [String]) throws {
            let registryClient = try RegistryClient(
                ImageReference(parsing: "\(registry.host)/team/iris:\(tag)"), push: true, options: options)
            let size = Int64(try #require(try registryClient.manifest(digest)).data.count)
            let entries = types.map {
                OCIDescriptor(mediaType: ModelMediaType.imageManifest, digest: digest, size: size, artifactType: $0)
            }
            let index = OCIManifest(mediaType: ModelMediaType.imageIndex, manifests: entries)
            try registryClient.putManifest(index.encoded(), mediaType: ModelMediaType.imageIndex, at: tag)
        }
        try putIndex("multi", ["application/vnd.example.other", ModelMediaType.artifact])
        let pull = try client.json(["pull", "\(registry.host)/team/iris:multi", "-o", dir.file("pulled.tar")])
        #expect(pull["manifestDigest"] as? String == digest)
        #expect(try Fixture.read(dir.file("pulled.tar")) == Fixture.read(bundle))
        let inspect = try client.json(["inspect", "oci://\(registry.host)/team/iris:multi", "--manifest-only"])
        #expect(inspect["manifestDigest"] as? String == digest)
        try putIndex("two", [ModelMediaType.artifact, ModelMediaType.artifact])
        let two = try client.run(["pull", "\(registry.host)/team/iris:two", "-o", dir.file("two.tar")])
        #expect(two.status == 1 && two.stderr.split(separator: "\n").count == 1, "\(two.stderr)")
        #expect(two.stderr.contains("image index of 2 manifests") && two.stderr.contains(digest), "\(two.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("two.tar")))
    }

    /// `inspect --manifest-only` makes the same number of requests for any model size.
    @Test func inspectingAReferenceTakesAConstantNumberOfRequests() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let small = dir.file("small.tar")
        try Self.build(try Self.model(dir), small)
        let other = TempDir()
        var extra: [String: [UInt8]] = ["weights.bin": Fixture.noise(16 << 20)]
        for i in 0..<40 { extra["shard-\(i).bin"] = Fixture.noise(1000 + i, seed: UInt64(i)) }
        let large = dir.file("large.tar")
        try Self.build(try Self.model(other, extra: extra), large)
        _ = try client.json(["push", small, "\(registry.host)/team/m:small"])
        _ = try client.json(["push", large, "\(registry.host)/team/m:large"])
        var counts: [Int] = []
        for tag in ["small", "large"] {
            let before = registry.requests().count
            let inspect = try client.json(["inspect", "oci://\(registry.host)/team/m:\(tag)", "--manifest-only"])
            counts.append(registry.requests().count - before)
            #expect(inspect["requests"] as? Int == counts.last)
        }
        #expect(counts[0] == counts[1] && counts[0] <= 6, "\(counts)")
        // The full audit of a reference: the same checks as for the file.
        let audit = try client.run(["inspect", "oci://\(registry.host)/team/m:small", "--format", "json"])
        let file = try CLI.run(["inspect", small, "--format", "json"])
        #expect(audit.status == file.status)
        let a = try #require(try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [String: Any])
        let f = try #require(try JSONSerialization.jsonObject(with: Data(file.stdout.utf8)) as? [String: Any])
        #expect(a["digest"] as? String == f["digest"] as? String)
        #expect((a["artifacts"] as? [Any])?.count == (f["artifacts"] as? [Any])?.count)
    }

    /// skopeo copies a pushed artifact to an OCI layout and back: the layout's blobs are exactly the
    /// files, and the manifest digest survives the round trip.
    @Test func skopeoCopiesThePushedArtifactUnchanged() throws {
        guard TestRegistry.check() else { return }
        guard let skopeo = FileSystem.executableOnPath("skopeo") else {
            if TestRegistry.required { Issue.record("skopeo is not installed") }
            return
        }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("iris.tar")
        try Self.build(try Self.model(dir), bundle)
        let push = try client.json(["push", bundle, "\(registry.host)/team/iris:1"])
        func skopeoRun(_ arguments: [String]) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: skopeo)
            process.arguments = ["--insecure-policy"] + arguments
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        let layout = dir.file("layout")
        #expect(
            try skopeoRun([
                "copy", "--src-tls-verify=false", "docker://\(registry.host)/team/iris:1", "oci:\(layout):iris",
            ]) == 0)
        let manifest = try BundleReader.inspect(bundle, limits: UnpackLimits()).manifest
        let blobs = Set(TempDir.listing(layout + "/blobs/sha256"))
        for file in manifest.files {
            #expect(blobs.contains(file.sha256), "\(file.path) is not a blob of the layout")
            #expect(
                try Fixture.read(layout + "/blobs/sha256/" + file.sha256)
                    == Fixture.read(dir.file("model/" + file.path)))
        }
        #expect(
            try skopeoRun([
                "copy", "--dest-tls-verify=false", "oci:\(layout):iris", "docker://\(registry.host)/copy/iris:1",
            ]) == 0)
        let copied = try client.json(["inspect", "oci://\(registry.host)/copy/iris:1", "--manifest-only"])
        #expect(copied["manifestDigest"] as? String == push["manifestDigest"] as? String)
        let pulled = dir.file("pulled.tar")
        _ = try client.json(["pull", "\(registry.host)/copy/iris:1", "-o", pulled])
        #expect(try Fixture.read(pulled) == Fixture.read(bundle))
    }

    /// Fixtures/registry/oras_push.py: pushes with oras-py, a registry client that is not modelpack.
    static let orasPush = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/registry/oras_push.py").path

    /// Whether oras-py is installed; fails the test when CI requires the registry tests.
    static func orasAvailable() -> Bool {
        if PythonOracle.available(["oras"]) { return true }
        if TestRegistry.required { Issue.record("oras-py is not installed") }
        return false
    }

    /// An artifact another client pushed (oras-py, with CNCF media types and no bundle manifest):
    /// inspected, rebuilt into a directory blob by blob, and refused as a bundle with what is missing.
    @Test func aModelPackArtifactFromAnotherClientIsRebuilt() throws {
        guard TestRegistry.check(), Self.orasAvailable() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let source = try Self.model(dir)
        let script = Self.orasPush
        let ref = "\(registry.host)/foreign/iris:3"
        let pushed = try PythonOracle.run(script, [ref, source, "model.joblib", "interface.py", "requirements.txt"])
        try #require(pushed.status == 0, "\(pushed.output)")
        let inspect = try client.json(["inspect", "oci://" + ref, "--manifest-only"])
        #expect(inspect["name"] as? String == "foreign-iris" && inspect["bundleDigest"] == nil)
        #expect(
            (inspect["layers"] as? [[String: Any]])?.compactMap { $0["path"] as? String }.sorted()
                == ["interface.py", "model.joblib", "requirements.txt"])
        let unpacked = dir.file("foreign")
        let pull = try client.run(["pull", ref, "--unpack", unpacked])
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(pull.stdout.contains("not yet a modelpack model: no metadata.yaml"))
        #expect(TempDir.files(under: unpacked) == ["interface.py", "model.joblib", "requirements.txt"])
        #expect(try Fixture.read(unpacked + "/model.joblib") == Fixture.read(source + "/model.joblib"))
        let bundle = try client.run(["pull", ref, "-o", dir.file("foreign.tar")])
        #expect(bundle.status == 1 && bundle.stderr.contains("it has no metadata.yaml"), "\(bundle.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("foreign.tar")))
        // With metadata.yaml too, the same checks as build pass and the bundle is the build's.
        let complete = "\(registry.host)/foreign/iris:4"
        let again = try PythonOracle.run(
            script, [complete, source, "model.joblib", "interface.py", "requirements.txt", "metadata.yaml"])
        try #require(again.status == 0, "\(again.output)")
        try Self.expectPullGivesTheBuild(client, complete, of: source, in: dir)
        // A layer the bundle manifest does not know is refused, blob digest checks included.
        let corrupt = try ImageReference(parsing: complete)
        let rest = try RegistryClient(corrupt, push: false, options: RegistryOptions())
        let (data, _, _) = try #require(try rest.manifest("4"))
        let layer = try #require(try JSONDecoder().decode(OCIManifest.self, from: data).layers?.first)
        var stored = try Fixture.read(registry.blobFile(layer.digest))
        stored[0] ^= 1
        try Fixture.write(stored, to: registry.blobFile(layer.digest))
        let refused = try ClientEnvironment().run(["pull", complete, "--unpack", dir.file("corrupt")])
        #expect(
            refused.status == 1 && refused.stderr.contains("blob \(layer.digest) does not match"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("corrupt")))
    }

    /// Tar-packed layers, as KitOps and modctl push them (files under their own paths, plain or
    /// gzip, beside a raw layer): rebuilt into the model directory, and into the bundle `build`
    /// gives for the same files. A layer holding `../` or a symbolic link is refused in one line,
    /// and nothing is written anywhere.
    @Test func tarPackedLayersAreRebuiltAndHostileOnesRefused() throws {
        guard TestRegistry.check(), Self.orasAvailable() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let source = try Self.model(dir, extra: ["src/helpers.py": Array("def helper():\n    return 1\n".utf8)])
        let script = Self.orasPush
        let ref = "\(registry.host)/foreign/packed:1"
        let pushed = try PythonOracle.run(
            script,
            [
                ref, source, "model.joblib", "tar:code.tar=interface.py,requirements.txt,src/helpers.py",
                "tar:docs.tar.gz=metadata.yaml",
            ])
        try #require(pushed.status == 0, "\(pushed.output)")
        let unpacked = dir.file("packed")
        let pull = try client.run(["pull", ref, "--unpack", unpacked])
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(
            TempDir.files(under: unpacked)
                == ["interface.py", "metadata.yaml", "model.joblib", "requirements.txt", "src/helpers.py"])
        #expect(try Fixture.read(unpacked + "/src/helpers.py") == Fixture.read(source + "/src/helpers.py"))
        try Self.expectPullGivesTheBuild(client, ref, of: source, in: dir)
        for (kind, entry) in [
            ("traversal", "../escape.txt"), ("symlink", "link.txt"), ("reserved", ".modelpack/manifest.json"),
            ("collide", "eights.bin' and '"), ("bytecode", "Python bytecode"),
        ] {
            let evil = "\(registry.host)/foreign/evil-\(kind):1"
            let hostile = try PythonOracle.run(
                script, [evil, source, "model.joblib", "tar:code.tar=interface.py", "evil:evil.tar=\(kind)"])
            try #require(hostile.status == 0, "\(hostile.output)")
            let refused = try client.run(["pull", evil, "--unpack", dir.file("evil")])
            #expect(refused.status == 1 && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
            #expect(
                refused.stderr.contains("refused") && refused.stderr.contains(entry)
                    && refused.stderr.contains(evil), "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("evil")))
            #expect(!FileManager.default.fileExists(atPath: dir.file("escape.txt")))
        }
        // A file in a raw layer and in a tar layer: refused, not one chosen.
        let twice = "\(registry.host)/foreign/twice:1"
        let pushedTwice = try PythonOracle.run(script, [twice, source, "interface.py", "tar:code.tar=interface.py"])
        try #require(pushedTwice.status == 0, "\(pushedTwice.output)")
        let refused = try client.run(["pull", twice, "--unpack", dir.file("twice")])
        #expect(refused.status == 1 && refused.stderr.contains("two layers hold 'interface.py'"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("twice")))
    }

    /// Credentials through a Docker credential helper (credsStore): login stores through it, push
    /// reads through it, and the secret is in no output.
    @Test func credentialHelpersAreUsedAsDockerUsesThem() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry(auth: .htpasswd(user: "bob", password: "hunter2"))
        let client = ClientEnvironment()
        let bin = client.root.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let store = client.root.file("helper-store.json")
        // A helper in the docker-credential protocol: `store` reads JSON, `get` reads the server URL.
        let helper = """
            #!/usr/bin/env python3
            import json, sys
            path = \(String(reflecting: store))
            verb = sys.argv[1]
            data = sys.stdin.read()
            try:
                saved = json.load(open(path))
            except FileNotFoundError:
                saved = {}
            if verb == "store":
                entry = json.loads(data); saved[entry["ServerURL"]] = entry; json.dump(saved, open(path, "w"))
            elif verb == "get":
                if data.strip() not in saved:
                    print("credentials not found in native keychain"); sys.exit(1)
                print(json.dumps(saved[data.strip()]))

            """
        try Fixture.write(Array(helper.utf8), to: bin + "/docker-credential-mptest")
        chmod(bin + "/docker-credential-mptest", 0o755)
        try FileManager.default.createDirectory(atPath: client.dockerConfig, withIntermediateDirectories: true)
        try Fixture.write(
            Array(#"{"credsStore": "mptest", "currentContext": "kept"}"#.utf8), to: client.dockerConfig + "/config.json"
        )
        let path = bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        func run(_ arguments: [String], stdin: String? = nil) throws -> CLI.Result {
            try client.run(arguments, stdin: stdin, environment: ["PATH": path])
        }
        let login = try run(["login", registry.host, "-u", "bob", "--password-stdin"], stdin: "hunter2")
        #expect(login.status == 0 && login.stdout.contains("docker-credential-mptest"), "\(login.stderr)")
        #expect(try String(contentsOfFile: store, encoding: .utf8).contains("hunter2"))
        #expect(
            !(try String(contentsOfFile: client.dockerConfig + "/config.json", encoding: .utf8)).contains("hunter2"))
        let dir = TempDir()
        let bundle = dir.file("iris.tar")
        try Self.build(try Self.model(dir), bundle)
        let push = try run(["push", bundle, "\(registry.host)/team/iris:1"])
        #expect(push.status == 0, "\(push.stderr)")
        #expect(!(push.stdout + push.stderr + login.stdout + login.stderr).contains("hunter2"))
    }

    /// prune keeps the most recently used blobs under the size it is given.
    @Test func pruneRemovesTheLeastRecentlyUsedBlobs() throws {
        let dir = TempDir()
        let cache = BlobCache(root: dir.file("blobs"))
        try FileManager.default.createDirectory(atPath: cache.directory, withIntermediateDirectories: true)
        for (i, age) in [300, 200, 100].enumerated() {
            let path = cache.directory + "/" + String(repeating: "\(i)", count: 64)
            try Fixture.write(Fixture.noise(1000), to: path)
            var times = [timeval(tv_sec: time(nil) - age, tv_usec: 0), timeval(tv_sec: time(nil) - age, tv_usec: 0)]
            utimes(path, &times)
        }
        let result = try Operations.prune(keeping: 2500, cache: cache).result
        #expect(result.removed.count == 1 && result.keptBytes == 2000)
        #expect(!FileManager.default.fileExists(atPath: cache.directory + "/" + String(repeating: "0", count: 64)))
        #expect(try Operations.prune(keeping: 0, cache: cache).result.keptBytes == 0)
        #expect(CacheStore.cap(environment: ["MODELPACK_CACHE_MAX": "1MiB"]) == 1 << 20)
        #expect(CacheStore.cap(environment: [:]) == 20 << 30)
    }

    /// After a pull the cache is held to MODELPACK_CACHE_MAX.
    @Test func aPullKeepsTheCacheUnderItsCap() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("m.tar")
        try Self.build(try Self.model(dir, extra: ["weights.bin": Fixture.noise(2 << 20)]), bundle)
        _ = try client.json(["push", bundle, "\(registry.host)/team/m:1"])
        var environment = client.variables
        environment["MODELPACK_CACHE_MAX"] = "1MiB"
        let pull = try CLI.run(
            ["pull", "\(registry.host)/team/m:1", "-o", dir.file("p.tar")], environment: environment)
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(try Fixture.read(dir.file("p.tar")) == Fixture.read(bundle))
        let kept = TempDir.listing(client.cache + "/blobs/sha256").compactMap {
            try? FileSystem.lstatInfo(client.cache + "/blobs/sha256/" + $0)?.size
        }
        #expect(kept.reduce(0, +) <= 1 << 20, "\(kept)")
    }

    /// On a terminal push and pull show a progress line (bytes, rate, ETA, the file); not through a
    /// pipe, with --quiet, or with --format json.
    @Test func progressIsShownOnATerminalOnly() throws {
        guard TestRegistry.check() else { return }
        let registry = try TestRegistry()
        let client = ClientEnvironment()
        let dir = TempDir()
        let bundle = dir.file("m.tar")
        try Self.build(try Self.model(dir, extra: ["weights.bin": Fixture.noise(4 << 20)]), bundle)
        func onTerminal(_ arguments: [String]) throws -> String {
            let result = try CLI.onTerminal(arguments, environment: client.variables)
            #expect(result.status == 0, "\(arguments)")
            return result.output
        }
        let push = try onTerminal(["push", bundle, "\(registry.host)/team/m:1", "--chunk-size", "1MiB"])
        // The line ends at 100% on the last file the push moved (weights.bin is last in the archive).
        #expect(push.contains("push ") && push.contains("/s  ETA") && push.contains("(100%)"), "\(push)")
        #expect(push.contains("weights.bin"), "\(push)")
        #expect(push.contains("pushed \(registry.host)/team/m:1"))
        let pull = try onTerminal(["pull", "\(registry.host)/team/m:1", "-o", dir.file("p.tar")])
        #expect(pull.contains("(100%)"), "\(pull)")
        let quiet = try onTerminal(["pull", "\(registry.host)/team/m:1", "-o", dir.file("q.tar"), "--quiet"])
        #expect(!quiet.contains("ETA"))
        let json = try onTerminal(["push", bundle, "\(registry.host)/team/m:2", "--format", "json"])
        #expect(!json.contains("ETA"))
        let piped = try client.run(["pull", "\(registry.host)/team/m:1", "-o", dir.file("r.tar")])
        #expect(!piped.stderr.contains("ETA") && piped.status == 0)
    }
}
