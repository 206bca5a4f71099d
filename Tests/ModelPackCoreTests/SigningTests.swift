import Crypto
import Foundation
import Testing

@testable import ModelPackCore

@Suite struct SigningTests {
    func signedBundle(_ tmp: TempDir) throws -> String {
        try Fixture.model(at: tmp.file("m"), extra: ["w.bin": Fixture.noise(20_000)])
        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("b.tar")]).status == 0)
        let keygen = try CLI.run(["keygen", "-o", tmp.file("k"), "--comment", "tests"])
        #expect(keygen.status == 0)
        let seed = String(decoding: try Fixture.read(tmp.file("k")), as: UTF8.self).split(separator: " ")[1]
        #expect(!keygen.stdout.contains(seed.prefix(20)))  // the private key is never printed
        #expect(try FileSystem.lstatInfo(tmp.file("k"))?.mode == 0o600)
        return tmp.file("b.tar")
    }

    /// What is signed is judged by its decoded subject, not by re-serialising the statement: the
    /// same statement written with other whitespace and key order, signed by the same key, is valid;
    /// one whose subject digest is another bundle's is not.
    @Test func theSubjectDigestDecidesNotTheStatementBytes() throws {
        let tmp = TempDir()
        let bundle = try signedBundle(tmp)
        let key = try SigningKeys.loadPrivate(tmp.file("k"))
        let manifest = try BundleReader.inspect(bundle, limits: UnpackLimits()).manifest
        let statement = try #require(
            try JSONSerialization.jsonObject(with: try BundleSignature.statement(manifest)) as? [String: Any])
        func sign(_ document: [String: Any]) throws {
            let body = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted])
            let signature = try key.signature(for: BundleSignature.pae(BundleSignature.payloadType, body))
            let envelope: [String: Any] = [
                "payloadType": BundleSignature.payloadType, "payload": body.base64EncodedString(),
                "signatures": [["keyid": key.publicKey.keyID, "sig": signature.base64EncodedString()]],
            ]
            try Fixture.write(
                Array(try JSONSerialization.data(withJSONObject: envelope)), to: BundleSignature.path(for: bundle))
        }
        try sign(statement)
        #expect(
            try Operations.verify(
                bundle, trust: TrustedKeys(files: [tmp.file("k.pub")], directory: nil), context: .test
            ).isValid)
        var other = statement
        other["subject"] = [["name": "x", "digest": ["sha256": String(repeating: "0", count: 64)]]]
        try sign(other)
        #expect(
            !(try Operations.verify(
                bundle, trust: TrustedKeys(files: [tmp.file("k.pub")], directory: nil), context: .test
            ).isValid))
    }

    @Test func signVerifyAndTheDigestStaysTheSame() throws {
        let tmp = TempDir()
        let bundle = try signedBundle(tmp)
        let before = try Fixture.read(bundle)
        #expect(try CLI.run(["sign", bundle, "--key", tmp.file("k")]).status == 0)
        #expect(try Fixture.read(bundle) == before)
        let verify = try CLI.run(["verify", bundle, "--key", tmp.file("k.pub")])
        #expect(verify.status == 0 && verify.stdout.contains("SIGNATURE valid, by key"))
        let json = try CLI.run(["verify", bundle, "--key", tmp.file("k.pub"), "--json"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(doc["schema"] as? String == "modelpack.verify/2")
        #expect((doc["signature"] as? [String: Any])?["status"] as? String == "valid")
        try FileSystem.makeDirectory(tmp.file("trusted"))
        try Fixture.write(try Fixture.read(tmp.file("k.pub")), to: tmp.file("trusted/alice.pub"))
        #expect(try CLI.run(["verify", bundle, "--trusted-keys", tmp.file("trusted")]).status == 0)
        // Never overwrites, and says so without pointing at a --force keygen does not have.
        let again = try CLI.run(["keygen", "-o", tmp.file("k")])
        #expect(again.status == ExitStatus.usage && again.stderr.contains("never replaces a key"), "\(again)")
        #expect(!again.stderr.contains("--force"))
    }

    @Test func unsignedWrongKeyForgedAndTampered() throws {
        let tmp = TempDir()
        let bundle = try signedBundle(tmp)
        let unsigned = try CLI.run(["verify", bundle, "--key", tmp.file("k.pub")])
        #expect(unsigned.status == ExitStatus.problems && unsigned.stdout.contains("SIGNATURE missing"))
        _ = try CLI.run(["sign", bundle, "--key", tmp.file("k")])
        _ = try CLI.run(["keygen", "-o", tmp.file("mallory")])
        let wrong = try CLI.run(["verify", bundle, "--key", tmp.file("mallory.pub")])
        #expect(wrong.status == ExitStatus.problems && wrong.stdout.contains("no signature by a trusted key"))

        // A forged payload: one resource digest changed, the old signature kept.
        let sig = tmp.file("b.tar.sig")
        var envelope = try #require(
            try JSONSerialization.jsonObject(with: Data(try Fixture.read(sig))) as? [String: Any])
        var payload = String(decoding: Data(base64Encoded: envelope["payload"] as! String)!, as: UTF8.self)
        let digest = SHA256Stream.hex(of: Fixture.noise(20_000))
        payload = payload.replacingOccurrences(of: digest, with: String(repeating: "0", count: 64))
        envelope["payload"] = Data(payload.utf8).base64EncodedString()
        try Fixture.write(Array(try JSONSerialization.data(withJSONObject: envelope)), to: sig)
        #expect(try CLI.run(["verify", bundle, "--key", tmp.file("k.pub")]).status == ExitStatus.problems)

        // Content changed after signing: the manifest (and digest) no longer match the statement.
        // (build removes such a BUNDLE.sig; one put back by hand is still refused.)
        _ = try CLI.run(["sign", bundle, "--key", tmp.file("k")])
        let old = try Fixture.read(sig)
        try Fixture.write(Fixture.noise(20_000, seed: 9), to: tmp.file("m/w.bin"))
        _ = try CLI.run(["build", tmp.file("m"), "-o", bundle])
        try Fixture.write(old, to: sig)
        let changed = try CLI.run(["verify", bundle, "--key", tmp.file("k.pub")])
        #expect(changed.status == ExitStatus.problems && changed.stdout.contains("for other content"))
    }

    /// A signature says which bundle it covers, and follows it: a rebuild of other content removes
    /// BUNDLE.sig (saying so), a rebuild of the same content keeps it; unpack keeps it in
    /// .modelpack/, where `verify --key DIR` finds it; inspect takes the keys and shows the verdict.
    @Test func theSignatureFollowsTheBundle() throws {
        let tmp = TempDir()
        let bundle = try signedBundle(tmp)
        let sig = BundleSignature.path(for: bundle)
        let digest = try BundleReader.inspect(bundle, limits: UnpackLimits()).digest
        let signed = try CLI.run(["sign", bundle, "--key", tmp.file("k"), "--json"])
        let signDoc = try #require(try JSONSerialization.jsonObject(with: Data(signed.stdout.utf8)) as? [String: Any])
        #expect(signDoc["digest"] as? String == digest)

        // inspect: present but unchecked without keys; valid with them; invalid with another key.
        let unchecked = try CLI.run(["inspect", bundle])
        #expect(unchecked.stdout.contains("signature  present, not checked"))
        let checked = try CLI.run(["inspect", bundle, "--key", tmp.file("k.pub"), "--json"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(checked.stdout.utf8)) as? [String: Any])
        #expect((doc["signature"] as? [String: Any])?["state"] as? String == "valid")
        _ = try CLI.run(["keygen", "-o", tmp.file("mallory")])
        let wrong = try CLI.run(["inspect", bundle, "--key", tmp.file("mallory.pub")])
        #expect(wrong.stdout.contains("signature  INVALID: no signature by a trusted key"))

        // Unpacked, the signature is kept beside the manifest and verify checks the directory.
        #expect(try CLI.run(["unpack", bundle, "-o", tmp.file("out")]).status == 0)
        #expect(try Fixture.read(tmp.file("out/.modelpack/signature.sig")) == (try Fixture.read(sig)))
        let offline = try CLI.run(["verify", tmp.file("out"), "--key", tmp.file("k.pub")])
        #expect(offline.status == 0 && offline.stdout.contains("SIGNATURE valid, by key"), "\(offline)")
        try Fixture.write(Fixture.noise(20_000, seed: 4), to: tmp.file("out/w.bin"))
        try Fixture.write([1], to: tmp.file("out/stray.txt"))
        let tampered = try CLI.run(["verify", tmp.file("out"), "--key", tmp.file("k.pub"), "--json"])
        #expect(tampered.status == ExitStatus.problems)
        let files = try #require(
            (try JSONSerialization.jsonObject(with: Data(tampered.stdout.utf8)) as? [String: Any])?["files"]
                as? [[String: Any]])
        #expect(files.contains { $0["path"] as? String == "w.bin" && $0["status"] as? String == "modified" })
        #expect(files.contains { $0["path"] as? String == "stray.txt" && $0["status"] as? String == "extra" })

        // The same content rebuilt: the signature still covers it and stays.
        let same = try CLI.run(["build", tmp.file("m"), "-o", bundle])
        #expect(same.stdout.contains("\(sig) still signs this bundle") && FileSystem.exists(sig))
        // Other content: removed, saying what it signed.
        try Fixture.write(Fixture.noise(20_000, seed: 5), to: tmp.file("m/w.bin"))
        let other = try CLI.run(["build", tmp.file("m"), "-o", bundle, "--json"])
        #expect(other.status == 0 && !FileSystem.exists(sig))
        let buildDoc = try #require(try JSONSerialization.jsonObject(with: Data(other.stdout.utf8)) as? [String: Any])
        let fate = try #require(buildDoc["signature"] as? [String: Any])
        #expect(fate["action"] as? String == "removed" && fate["signed"] as? String == digest)
        let unsigned = try CLI.run(["verify", bundle, "--key", tmp.file("k.pub")])
        #expect(unsigned.stdout.contains("SIGNATURE missing"))
    }

    @Test func unpackRequiresAValidSignatureBeforeWritingAnything() throws {
        let tmp = TempDir()
        let bundle = try signedBundle(tmp)
        let noKeys = try CLI.run(["unpack", bundle, "-o", tmp.file("out"), "--require-signature"])
        #expect(noKeys.status == ExitStatus.usage)
        let unsigned = try CLI.run([
            "unpack", bundle, "-o", tmp.file("out"), "--require-signature", "--key", tmp.file("k.pub"),
        ])
        #expect(unsigned.status == ExitStatus.problems && unsigned.stderr.contains("not signed"))
        #expect(!FileSystem.exists(tmp.file("out")))
        _ = try CLI.run(["sign", bundle, "--key", tmp.file("k")])
        #expect(
            try CLI.run(["unpack", bundle, "-o", tmp.file("out"), "--require-signature", "--key", tmp.file("k.pub")])
                .status == 0)
        #expect(FileSystem.exists(tmp.file("out/w.bin")))
    }
}
