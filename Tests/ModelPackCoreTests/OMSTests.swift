import Crypto
import Foundation
import Testing

@testable import ModelPackCore

/// The OMS reader's own checks, with statements made in-process (no model_signing needed):
/// what a hostile signer or a tampered bundle can try.
@Suite struct OMSTests {
    nonisolated(unsafe) static let key = PrivateKey.p256(P256.Signing.PrivateKey())  // read only

    /// A Sigstore bundle over an arbitrary statement, signed with `key` (hint as given).
    static func bundle(_ statement: [String: Any], hint: String? = key.publicKey.hint) throws -> [UInt8] {
        let payload = try JSONSerialization.data(withJSONObject: statement, options: [.sortedKeys])
        let sig = try key.signature(for: BundleSignature.pae(BundleSignature.payloadType, payload))
        var material: [String: Any] = ["tlogEntries": [] as [Any]]
        material["publicKey"] = hint.map { ["hint": $0] } ?? [:]
        let document: [String: Any] = [
            "mediaType": OMSSignature.mediaType, "verificationMaterial": material,
            "dsseEnvelope": [
                "payload": payload.base64EncodedString(), "payloadType": BundleSignature.payloadType,
                "signatures": [["sig": sig.base64EncodedString(), "keyid": ""]],
            ],
        ]
        return Array(try JSONSerialization.data(withJSONObject: document))
    }

    static func statement(
        _ resources: [OMSSignature.Resource], subject: String? = nil,
        predicateType: String = OMSSignature.predicateType,
        method: String = "files"
    ) -> [String: Any] {
        [
            "_type": OMSSignature.statementType,
            "subject": [["name": "m", "digest": ["sha256": subject ?? OMSSignature.rootDigest(resources)!]]],
            "predicateType": predicateType,
            "predicate": [
                "serialization": ["method": method, "hash_type": "sha256", "allow_symlinks": false],
                "resources": resources.map { ["name": $0.name, "algorithm": "sha256", "digest": $0.digest] },
            ],
        ]
    }

    static func manifest(_ tmp: TempDir) throws -> Manifest {
        try Fixture.model(at: tmp.file("m"), extra: ["w.bin": Fixture.noise(1_000)])
        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("b.tar")]).status == 0)
        return try BundleReader.inspect(tmp.file("b.tar"), limits: UnpackLimits()).manifest
    }

    /// The manifest is signed with the files: another name, version, trusted module or
    /// allowed-unsafe list under the same files is not covered.
    @Test func aBundlesManifestIsSigned() throws {
        let tmp = TempDir()
        let manifest = try Self.manifest(tmp)
        let trusted = [Self.key.publicKey]
        let signed = try OMSSignature.sign(
            resources: OMSSignature.resources(of: manifest), subject: manifest.name,
            ignore: OMSSignature.bundleIgnorePaths, key: Self.key)
        guard case .valid = OMSSignature.check(signed, named: "s", manifest: manifest, trusted: trusted) else {
            Issue.record("a good signature is refused")
            return
        }
        let edited = Manifest(
            formatVersion: manifest.formatVersion, tool: manifest.tool, name: manifest.name, version: manifest.version,
            allowedUnsafe: manifest.allowedUnsafe, trustedModules: ["os", "subprocess"], files: manifest.files)
        guard case .invalid(let why) = OMSSignature.check(signed, named: "s", manifest: edited, trusted: trusted) else {
            Issue.record("a manifest with other trusted modules is covered")
            return
        }
        #expect(why.contains(Manifest.entryPath), "\(why)")
        // A statement of the files alone (a directory's) does not cover a bundle.
        let filesOnly = try Self.bundle(
            Self.statement(OMSSignature.resources(of: manifest).filter { $0.name != Manifest.entryPath }))
        guard
            case .invalid(let reason) = OMSSignature.check(filesOnly, named: "s", manifest: manifest, trusted: trusted)
        else {
            Issue.record("a directory's statement covers a bundle")
            return
        }
        #expect(reason.contains("does not sign the bundle's manifest"))
    }

    @Test func hostileStatementsAreRefused() throws {
        let trusted = [Self.key.publicKey]
        let a = OMSSignature.Resource(name: "a", digest: String(repeating: "1", count: 64))
        let b = OMSSignature.Resource(name: "b", digest: String(repeating: "2", count: 64))
        let cases: [([UInt8], String)] = [
            (try Self.bundle(Self.statement([a, b], subject: String(repeating: "0", count: 64))), "subject digest"),
            (try Self.bundle(Self.statement([a, a])), "lists 'a' twice"),
            (try Self.bundle(Self.statement([a], method: "shards")), "files/sha256"),
            (try Self.bundle(Self.statement([a], predicateType: "https://model_signing/Digests/v0.1")), "older"),
            (
                try Self.bundle(Self.statement([a]), hint: String(repeating: "f", count: 64)),
                "no signature by a trusted key"
            ),
        ]
        for (bytes, message) in cases {
            guard case .failure(let failure) = OMSSignature.checked(bytes, trusted: trusted) else {
                Issue.record("accepted: \(message)")
                continue
            }
            #expect(failure.reason.contains(message), "\(failure.reason)")
        }
        // No hint at all: the key that verifies is found.
        guard case .success = OMSSignature.checked(try Self.bundle(Self.statement([a]), hint: nil), trusted: trusted)
        else {
            Issue.record("a bundle without a hint is refused")
            return
        }
    }

    /// Names are bytes: a file whose name is canonically equivalent (NFD for NFC) is another
    /// file; a special file in the model, or as the signature, is refused rather than waited on.
    @Test func namesAreBytesAndSpecialFilesAreRefused() throws {
        let tmp = TempDir()
        try FileSystem.makeDirectory(tmp.file("m"))
        try Fixture.write(Array("x".utf8), to: tmp.file("m/caf\u{E9}.txt"))
        #expect(try CLI.run(["keygen", "--type", "ecdsa-p256", "-o", tmp.file("k")]).status == 0)
        #expect(try CLI.run(["sign", tmp.file("m"), "--key", tmp.file("k")]).status == 0)
        #expect(try CLI.run(["verify", tmp.file("m"), "--key", tmp.file("k.pub")]).status == 0)
        try FileSystem.removeFile(tmp.file("m/caf\u{E9}.txt"))
        try Fixture.write(Array("x".utf8), to: tmp.file("m/cafe\u{301}.txt"))
        let renamed = try CLI.run(["verify", tmp.file("m"), "--key", tmp.file("k.pub"), "--json"])
        #expect(renamed.status == ExitStatus.problems, "\(renamed)")
        #expect(renamed.stdout.contains("\"extra\"") && renamed.stdout.contains("\"missing\""), "\(renamed.stdout)")
        try FileSystem.removeFile(tmp.file("m/cafe\u{301}.txt"))
        try Fixture.write(Array("x".utf8), to: tmp.file("m/caf\u{E9}.txt"))
        #expect(mkfifo(tmp.file("m/pipe"), 0o644) == 0)
        let fifo = try CLI.run(["verify", tmp.file("m"), "--key", tmp.file("k.pub")])
        #expect(fifo.status != 0 && fifo.stderr.contains("not a regular file"), "\(fifo)")
        try FileSystem.removeFile(tmp.file("m/pipe"))
        #expect(mkfifo(tmp.file("m/model.sig"), 0o644) == 0)
        let signature = try CLI.run(["verify", tmp.file("m"), "--key", tmp.file("k.pub")])
        #expect(signature.status != 0 && signature.stderr.contains("not a regular file"), "\(signature)")
    }
}
