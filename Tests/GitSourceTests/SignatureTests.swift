import Foundation
import GitSource
import TestSupport
import Testing

@Suite("Commit signatures")
struct SignatureTests {
    @Test("an SSH-signed commit's signature is extracted and verifies with ssh-keygen")
    func sshSignedCommit() throws {
        let fixture = try GitFixture()
        let key = fixture.scratch.sub("alice")
        try sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice@acme.test", "-f", key)
        try fixture.git("config", "gpg.format", "ssh")
        try fixture.git("config", "user.signingkey", key)
        try fixture.scratch.write("work/file.txt", "signed content\n")
        try fixture.git("add", "-A")
        try fixture.git("commit", "-q", "-S", "-m", "signed change")
        let signedID = try #require(ObjectID(hex: try fixture.git("rev-parse", "HEAD")))
        let unsignedID = try #require(ObjectID(hex: try fixture.commit("unsigned", files: ["other": "x"])))

        let repository = try GitRepository.open(at: fixture.path)
        #expect(try repository.signature(of: unsignedID) == nil)
        let signature = try #require(try repository.signature(of: signedID))
        #expect(signature.isSSH)
        #expect(String(decoding: signature.signedData, as: UTF8.self).contains("signed change"))

        let publicKey = try String(contentsOfFile: key + ".pub", encoding: .utf8)
        let parts = publicKey.split(separator: " ")
        try fixture.scratch.write("allowed_signers", "alice@acme.test \(parts[0]) \(parts[1])\n")
        try fixture.scratch.write("commit.sig", signature.signature)
        let verified = try runProcess(
            [
                "ssh-keygen", "-Y", "verify", "-f", fixture.scratch.sub("allowed_signers"), "-I", "alice@acme.test",
                "-n", "git", "-s", fixture.scratch.sub("commit.sig"),
            ], input: signature.signedData)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("Good \"git\" signature for alice@acme.test"))

        var tampered = signature.signedData
        tampered.append(contentsOf: Array("x".utf8))
        let rejected = try runProcess(
            [
                "ssh-keygen", "-Y", "verify", "-f", fixture.scratch.sub("allowed_signers"), "-I", "alice@acme.test",
                "-n", "git", "-s", fixture.scratch.sub("commit.sig"),
            ], input: tampered)
        #expect(rejected.status != 0)
    }
}
