import Foundation
import Testing

@testable import ModelPackCore

/// OMS signatures against the reference: PyPI model-signing 1.1 (`model_signing`, in the
/// virtualenv `make oms-deps` makes; MODELPACK_MODEL_SIGNING names another). In both directions:
/// what modelpack signs, model_signing verifies, and what model_signing signs, modelpack
/// verifies; tampered files, extra files and wrong keys fail in both.
@Suite struct SigningInteropTests {
    static let modelSigning: String? = {
        if let named = ProcessInfo.processInfo.environment["MODELPACK_MODEL_SIGNING"] { return named }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent(".build/venvs/model-signing/bin/model_signing").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    /// The reference, or nil (and a failure when the oracles are required).
    static func reference() -> String? {
        if let modelSigning { return modelSigning }
        if PythonOracle.required { Issue.record("model_signing is not installed (make oms-deps)") }
        return nil
    }

    static func modelSigning(_ arguments: [String]) throws -> CLI.Result {
        try CLI.run(arguments, executable: try #require(modelSigning))
    }

    static func openssl(_ arguments: [String]) throws {
        let run = try CLI.run(arguments, executable: "/usr/bin/openssl")
        try #require(run.status == 0, "openssl \(arguments): \(run.stderr)")
    }

    @Test func whatModelpackSignsModelSigningVerifies() throws {
        guard Self.reference() != nil else { return }
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["w.bin": Fixture.noise(50_000), "sub/.hidden": [1, 2, 3]])
        let keygen = try CLI.run(["keygen", "--type", "ecdsa-p256", "-o", tmp.file("k"), "--json"])
        try #require(keygen.status == 0, "\(keygen.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(keygen.stdout.utf8)) as? [String: Any]
        #expect(document?["type"] as? String == "ecdsa-p256")
        #expect(
            String(decoding: try Fixture.read(tmp.file("k.pub")), as: UTF8.self).hasPrefix("-----BEGIN PUBLIC KEY-----")
        )

        // A directory: DIR.sig beside it.
        let signed = try CLI.run(["sign", tmp.file("m"), "--key", tmp.file("k")])
        #expect(signed.status == 0 && signed.stdout.contains("(OMS)"), "\(signed)")
        let accepted = try Self.modelSigning([
            "verify", "key", tmp.file("m"), "--signature", tmp.file("m.sig"), "--public_key", tmp.file("k.pub"),
        ])
        #expect(accepted.status == 0, "\(accepted.stdout)\(accepted.stderr)")

        // A bundle: OMS over its files; model_signing verifies the directory unpack writes (its
        // .modelpack/ is in the statement's ignore_paths), and modelpack verifies the bundle.
        #expect(try CLI.run(["build", tmp.file("m"), "-o", tmp.file("b.zip")]).status == 0)
        // `--format oms`, as the issue spells it (--signature-format oms, with a text report).
        let bundleSigned = try CLI.run(["sign", tmp.file("b.zip"), "--key", tmp.file("k"), "--format", "oms"])
        #expect(bundleSigned.status == 0, "\(bundleSigned)")
        #expect(OMSSignature.isOMS(try Fixture.read(tmp.file("b.zip.sig"))))
        let verified = try CLI.run(["verify", tmp.file("b.zip"), "--key", tmp.file("k.pub")])
        #expect(verified.status == 0 && verified.stdout.contains("SIGNATURE valid"), "\(verified)")
        #expect(try CLI.run(["unpack", tmp.file("b.zip"), "-o", tmp.file("out")]).status == 0)
        #expect(FileSystem.exists(tmp.file("out/.modelpack/signature.sig")))
        let unpackedAccepted = try Self.modelSigning([
            "verify", "key", tmp.file("out"), "--signature", tmp.file("b.zip.sig"), "--public_key", tmp.file("k.pub"),
        ])
        #expect(unpackedAccepted.status == 0, "\(unpackedAccepted.stdout)\(unpackedAccepted.stderr)")

        // Tampered: both refuse.
        try Fixture.write(Fixture.noise(50_000, seed: 3), to: tmp.file("m/w.bin"))
        let tampered = try Self.modelSigning([
            "verify", "key", tmp.file("m"), "--signature", tmp.file("m.sig"), "--public_key", tmp.file("k.pub"),
        ])
        #expect(tampered.status != 0)
        let ours = try CLI.run(["verify", tmp.file("m"), "--key", tmp.file("k.pub")])
        #expect(ours.status == ExitStatus.problems && ours.stdout.contains("w.bin"), "\(ours)")
    }

    @Test func whatModelSigningSignsModelpackVerifies() throws {
        guard Self.reference() != nil else { return }
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["w.bin": Fixture.noise(50_000), "a/b c.txt": Array("x".utf8)])
        // A key modelpack made (PKCS#8) and SEC1 and P-384 keys openssl made.
        #expect(try CLI.run(["keygen", "--type", "ecdsa-p256", "-o", tmp.file("k")]).status == 0)
        try Self.openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", tmp.file("sec1.pem")])
        try Self.openssl(["ec", "-in", tmp.file("sec1.pem"), "-pubout", "-out", tmp.file("sec1.pub")])
        try Self.openssl([
            "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", tmp.file("p384.pem"),
        ])
        try Self.openssl(["pkey", "-in", tmp.file("p384.pem"), "-pubout", "-out", tmp.file("p384.pub")])
        for (key, pub) in [("k", "k.pub"), ("sec1.pem", "sec1.pub"), ("p384.pem", "p384.pub")] {
            let sig = tmp.file(key + ".oms.sig")
            let made = try Self.modelSigning([
                "sign", "key", tmp.file("m"), "--private_key", tmp.file(key), "--signature", sig,
            ])
            try #require(made.status == 0, "\(made.stdout)\(made.stderr)")
            let verified = try CLI.run(["verify", tmp.file("m"), "--key", tmp.file(pub), "--signature", sig, "--json"])
            #expect(verified.status == 0, "\(key): \(verified)")
            // The bundle built from the directory has the same files but a manifest the signature
            // does not cover (its name, version, trusted modules): refused, saying so.
            _ = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("b.tar")])
            let bundle = try CLI.run(["verify", tmp.file("b.tar"), "--key", tmp.file(pub), "--signature", sig])
            #expect(
                bundle.status == ExitStatus.problems && bundle.stdout.contains("does not sign the bundle's manifest"),
                "\(key): \(bundle)")
        }
        // openssl's SEC1 private key signs with modelpack too, and model_signing accepts it.
        let fromSEC1 = try CLI.run(["sign", tmp.file("m"), "--key", tmp.file("sec1.pem"), "-o", tmp.file("s1.sig")])
        #expect(fromSEC1.status == 0, "\(fromSEC1)")
        let sec1Accepted = try Self.modelSigning([
            "verify", "key", tmp.file("m"), "--signature", tmp.file("s1.sig"), "--public_key", tmp.file("sec1.pub"),
        ])
        #expect(sec1Accepted.status == 0, "\(sec1Accepted.stdout)\(sec1Accepted.stderr)")
        let sig = tmp.file("k.oms.sig")

        // Another key: refused.
        let wrong = try CLI.run(["verify", tmp.file("m"), "--key", tmp.file("sec1.pub"), "--signature", sig])
        #expect(wrong.status == ExitStatus.problems && wrong.stdout.contains("no signature by a trusted key"))
        // An extra file the signature does not cover: refused, named.
        try Fixture.write(Array("new".utf8), to: tmp.file("m/extra.txt"))
        let extra = try CLI.run(["verify", tmp.file("m"), "--key", tmp.file("k.pub"), "--signature", sig])
        #expect(extra.status == ExitStatus.problems && extra.stdout.contains("extra.txt"), "\(extra)")
        try FileSystem.removeFile(tmp.file("m/extra.txt"))
        // A file removed: refused, named.
        try FileSystem.removeFile(tmp.file("m/a/b c.txt"))
        let missing = try CLI.run(["verify", tmp.file("m"), "--key", tmp.file("k.pub"), "--signature", sig])
        #expect(missing.status == ExitStatus.problems && missing.stdout.contains("a/b c.txt"), "\(missing)")
    }

    /// Where model_signing trusts the signer, modelpack fails closed: a statement whose
    /// ignore_paths leaves a file of the model out does not cover it.
    @Test func aSignatureThatLeavesAFileOutDoesNotCoverIt() throws {
        guard Self.reference() != nil else { return }
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["w.bin": Fixture.noise(5_000)])
        #expect(try CLI.run(["keygen", "--type", "ecdsa-p256", "-o", tmp.file("k")]).status == 0)
        let made = try Self.modelSigning([
            "sign", "key", tmp.file("m"), "--private_key", tmp.file("k"), "--signature", tmp.file("s.sig"),
            "--ignore-paths", tmp.file("m/interface.py"),
        ])
        try #require(made.status == 0, "\(made.stdout)\(made.stderr)")
        let theirs = try Self.modelSigning([
            "verify", "key", tmp.file("m"), "--signature", tmp.file("s.sig"), "--public_key", tmp.file("k.pub"),
        ])
        #expect(theirs.status == 0)  // the reference accepts it
        let ours = try CLI.run(["verify", tmp.file("m"), "--key", tmp.file("k.pub"), "--signature", tmp.file("s.sig")])
        #expect(ours.status == ExitStatus.problems && ours.stdout.contains("interface.py"), "\(ours)")
        _ = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("b.tar")])
        let bundle = try CLI.run([
            "verify", tmp.file("b.tar"), "--key", tmp.file("k.pub"), "--signature", tmp.file("s.sig"),
        ])
        #expect(bundle.status == ExitStatus.problems && bundle.stdout.contains("SIGNATURE invalid"), "\(bundle)")
    }

    /// `build --provenance`: an SLSA Provenance v1 statement that in-toto-attestation (in the
    /// same virtualenv as model_signing) reads strictly, whose subject is the bundle file's
    /// SHA-256; with --provenance-key, a DSSE envelope the key's public half verifies.
    @Test func theProvenanceIsSLSAv1() throws {
        guard let modelSigning = Self.reference() else { return }
        let python = FileSystem.parentDirectory(of: modelSigning) + "/python"
        let checker = Golden.fixtures.appendingPathComponent("provenance/check_provenance.py").path
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"), extra: ["w.bin": Fixture.noise(3_000)])
        #expect(try CLI.run(["keygen", "-o", tmp.file("k")]).status == 0)
        let built = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("b.zip"), "--provenance", tmp.file("p.json")])
        #expect(built.status == 0 && built.stdout.contains("wrote the SLSA provenance"), "\(built)")
        let checked = try CLI.run([checker, tmp.file("p.json")], executable: python)
        #expect(checked.status == 0, "\(checked)")
        let statement = try #require(
            try JSONSerialization.jsonObject(with: Data(try Fixture.read(tmp.file("p.json")))) as? [String: Any])
        let subject = try #require((statement["subject"] as? [[String: Any]])?.first)
        #expect(
            (subject["digest"] as? [String: String])?["sha256"]
                == SHA256Stream.hex(of: try Fixture.read(tmp.file("b.zip"))))
        let dependencies =
            ((statement["predicate"] as? [String: Any])?["buildDefinition"] as? [String: Any])?["resolvedDependencies"]
            as? [[String: Any]] ?? []
        #expect(Set(dependencies.compactMap { $0["name"] as? String }).contains("w.bin"))

        let signed = try CLI.run([
            "build", tmp.file("m"), "-o", tmp.file("c.zip"), "--provenance", tmp.file("q.json"), "--provenance-key",
            tmp.file("k"),
        ])
        #expect(signed.status == 0, "\(signed)")
        #expect(try CLI.run([checker, tmp.file("q.json")], executable: python).status == 0)
        let envelope = try #require(
            try JSONSerialization.jsonObject(with: Data(try Fixture.read(tmp.file("q.json")))) as? [String: Any])
        let payload = try #require(Data(base64Encoded: envelope["payload"] as? String ?? ""))
        let sig = try #require(
            Data(base64Encoded: (envelope["signatures"] as? [[String: Any]])?.first?["sig"] as? String ?? ""))
        let key = try SigningKeys.loadPublic(tmp.file("k.pub"))
        #expect(key.isValid(sig, for: BundleSignature.pae(BundleSignature.payloadType, payload)))
        let misuse = try CLI.run(["build", tmp.file("m"), "-o", tmp.file("d.zip"), "--provenance-key", tmp.file("k")])
        #expect(misuse.status == ExitStatus.usage)
    }

    /// A test PKI in `dir`: two roots, an intermediate (pathlen 0) under `root`, and leaves
    /// issued by it: `leaf` (digitalSignature, codeSigning) and `server` (serverAuth only).
    static func pki(_ dir: TempDir) throws {
        try Fixture.write(
            Array(
                """
                [ca]
                basicConstraints = critical,CA:TRUE,pathlen:0
                keyUsage = critical,keyCertSign,cRLSign
                [leaf]
                basicConstraints = critical,CA:FALSE
                keyUsage = critical,digitalSignature
                extendedKeyUsage = codeSigning
                [server]
                basicConstraints = critical,CA:FALSE
                keyUsage = critical,keyEncipherment
                extendedKeyUsage = serverAuth
                """.utf8), to: dir.file("ext.cnf"))
        for root in ["root", "other"] {
            try openssl([
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                dir.file(root + ".key"), "-out", dir.file(root + ".pem"), "-days", "2", "-subj", "/CN=test \(root) CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        }
        for (name, issuer, section) in [
            ("inter", "root", "ca"), ("leaf", "inter", "leaf"), ("server", "inter", "server"),
        ] {
            try openssl([
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                dir.file(name + ".key"), "-out", dir.file(name + ".csr"), "-subj", "/CN=test \(name)",
            ])
            try openssl([
                "x509", "-req", "-in", dir.file(name + ".csr"), "-CA", dir.file(issuer + ".pem"), "-CAkey",
                dir.file(issuer + ".key"), "-CAcreateserial", "-days", "1", "-sha256", "-extfile", dir.file("ext.cnf"),
                "-extensions", section, "-out", dir.file(name + ".pem"),
            ])
        }
    }

    /// `model_signing sign certificate` (a leaf under an intermediate): modelpack verifies it with
    /// the root CA as the trusted key (a file, or a .pem in --trusted-keys), as model_signing
    /// verify certificate does; another root, no CA at all, a leaf that may not sign, a tampered
    /// file and a keyless signature are each refused, saying why.
    @Test func certificateChainsVerifyAgainstATrustedCA() throws {
        guard Self.reference() != nil else { return }
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))
        try Self.pki(tmp)
        for leaf in ["leaf", "server"] {
            let made = try Self.modelSigning([
                "sign", "certificate", tmp.file("m"), "--private_key", tmp.file(leaf + ".key"),
                "--signing_certificate", tmp.file(leaf + ".pem"), "--certificate_chain", tmp.file("inter.pem"),
                "--signature", tmp.file(leaf + ".sig"),
            ])
            try #require(made.status == 0, "\(made.stdout)\(made.stderr)")
        }
        let reference = try Self.modelSigning([
            "verify", "certificate", tmp.file("m"), "--signature", tmp.file("leaf.sig"), "--certificate_chain",
            tmp.file("root.pem"),
        ])
        #expect(reference.status == 0, "\(reference.stdout)\(reference.stderr)")
        func verify(_ signature: String, _ trust: [String]) throws -> CLI.Result {
            try CLI.run(["verify", tmp.file("m"), "--signature", tmp.file(signature)] + trust)
        }
        let byRoot = try verify("leaf.sig", ["--key", tmp.file("root.pem")])
        #expect(byRoot.status == 0 && byRoot.stdout.contains("SIGNATURE valid"), "\(byRoot)")
        #expect(byRoot.stdout.contains("CN=test leaf"), "\(byRoot)")
        try FileManager.default.createDirectory(atPath: tmp.file("cas"), withIntermediateDirectories: true)
        try Fixture.write(try Fixture.read(tmp.file("root.pem")), to: tmp.file("cas/root.pem"))
        #expect(try verify("leaf.sig", ["--trusted-keys", tmp.file("cas")]).status == 0)

        let otherRoot = try verify("leaf.sig", ["--key", tmp.file("other.pem")])
        #expect(
            otherRoot.status == ExitStatus.problems && otherRoot.stdout.contains("does not chain to a trusted CA"),
            "\(otherRoot)")
        try Self.openssl(["x509", "-in", tmp.file("leaf.pem"), "-pubkey", "-noout", "-out", tmp.file("leaf.pub")])
        let noCA = try verify("leaf.sig", ["--key", tmp.file("leaf.pub")])
        #expect(noCA.status == ExitStatus.problems && noCA.stdout.contains("give the CA certificate"), "\(noCA)")
        let notCA = try verify("leaf.sig", ["--key", tmp.file("leaf.pem")])
        #expect(notCA.status == ExitStatus.usage && notCA.stderr.contains("is not a CA certificate"), "\(notCA)")
        let server = try verify("server.sig", ["--key", tmp.file("root.pem")])
        #expect(server.status == ExitStatus.problems && server.stdout.contains("may not sign"), "\(server)")

        // Keyless (a transparency log entry beside the certificate): no Sigstore trust root here.
        var keyless = try #require(
            try JSONSerialization.jsonObject(with: Data(try Fixture.read(tmp.file("leaf.sig")))) as? [String: Any])
        var material = try #require(keyless["verificationMaterial"] as? [String: Any])
        material["tlogEntries"] = [["logIndex": "1"]]
        keyless["verificationMaterial"] = material
        try Fixture.write(Array(try JSONSerialization.data(withJSONObject: keyless)), to: tmp.file("keyless.sig"))
        let refused = try verify("keyless.sig", ["--key", tmp.file("root.pem")])
        #expect(refused.status == ExitStatus.problems && refused.stdout.contains("keyless Sigstore signature"))

        try Fixture.write(Array("changed\n".utf8), to: tmp.file("m/NOTES.md"))
        let tampered = try verify("leaf.sig", ["--key", tmp.file("root.pem")])
        #expect(tampered.status == ExitStatus.problems, "\(tampered)")
        let referenceTampered = try Self.modelSigning([
            "verify", "certificate", tmp.file("m"), "--signature", tmp.file("leaf.sig"), "--certificate_chain",
            tmp.file("root.pem"),
        ])
        #expect(referenceTampered.status != 0)
    }

    /// An Ed25519 key cannot make an OMS signature: refused in one clear line.
    @Test func anEd25519KeyMakesNoOMSSignature() throws {
        let tmp = TempDir()
        try Fixture.model(at: tmp.file("m"))
        #expect(try CLI.run(["keygen", "-o", tmp.file("ed")]).status == 0)
        let ed = try CLI.run(["sign", tmp.file("m"), "--key", tmp.file("ed")])
        #expect(ed.status == ExitStatus.usage && ed.stderr.contains("OMS signatures take an ECDSA key"), "\(ed)")
        let both = try CLI.run([
            "sign", tmp.file("m"), "--key", tmp.file("ed"), "--format", "oms", "--signature-format", "modelpack",
        ])
        #expect(both.status == ExitStatus.usage && both.stderr.contains("contradicts"), "\(both)")
    }
}
