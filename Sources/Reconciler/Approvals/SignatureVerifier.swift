import Crypto
import Foundation

/// The verdict of OpenSSH on one detached signature.
struct SignatureCheck: Sendable, Hashable {
    let valid: Bool
    let fingerprint: String?
    /// Why it did not verify, in words an approver understands.
    let problem: String?
}

/// Verifies detached SSH signatures with `ssh-keygen -Y verify` (namespace `pipeline-agent`)
/// against the agent's `allowed_signers`; results are cached by content.
final class SignatureVerifier {
    static let namespace = "pipeline-agent"

    private let allowedSigners: String
    private let workDirectory: String
    private let runner: any CommandRunner
    private var cache: [String: SignatureCheck] = [:]

    init(allowedSigners: String, workDirectory: String, runner: any CommandRunner) {
        self.runner = runner
        self.allowedSigners = allowedSigners
        self.workDirectory = workDirectory
    }

    func verify(file: Data, signature: Data, principal: String) -> SignatureCheck {
        let signersDigest = Self.digest(FileManager.default.contents(atPath: allowedSigners) ?? Data())
        let key = [Self.digest(file), Self.digest(signature), principal, signersDigest].joined(separator: "|")
        if let cached = cache[key] { return cached }
        let result = check(file: file, signature: signature, principal: principal)
        cache[key] = result
        return result
    }

    private func check(file: Data, signature: Data, principal: String) -> SignatureCheck {
        guard FileManager.default.isReadableFile(atPath: allowedSigners) else {
            return SignatureCheck(
                valid: false, fingerprint: nil, problem: "the agent cannot read its allowed_signers \(allowedSigners)")
        }
        let directory = "\(workDirectory)/signature-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try file.write(to: URL(fileURLWithPath: "\(directory)/approval"))
            try signature.write(to: URL(fileURLWithPath: "\(directory)/approval.sig"))
        } catch {
            return SignatureCheck(valid: false, fingerprint: nil, problem: "cannot stage the signature check: \(error)")
        }
        // Principal and paths travel in the environment, never in the command text.
        let environment = [
            "PATH": "/usr/bin:/bin", "PA_SIGNERS": allowedSigners, "PA_PRINCIPAL": principal,
            "PA_SIG": "\(directory)/approval.sig", "PA_FILE": "\(directory)/approval",
        ]
        let verify = run(
            #"ssh-keygen -Y verify -f "$PA_SIGNERS" -I "$PA_PRINCIPAL" -n \#(Self.namespace) -s "$PA_SIG" < "$PA_FILE""#,
            environment, in: directory)
        if verify.status, let range = verify.output.range(of: #"SHA256:[A-Za-z0-9+/=]+"#, options: .regularExpression) {
            return SignatureCheck(valid: true, fingerprint: String(verify.output[range]), problem: nil)
        }
        return SignatureCheck(valid: false, fingerprint: nil, problem: explain(verify.output, principal, environment, directory))
    }

    /// Says who really signed, when someone did: another principal, an unknown key, or another namespace.
    private func explain(_ output: String, _ principal: String, _ environment: [String: String], _ directory: String) -> String {
        let finder = run(#"ssh-keygen -Y find-principals -s "$PA_SIG" -f "$PA_SIGNERS""#, environment, in: directory)
        let signers = finder.output.split(separator: "\n").map(String.init).filter { $0.contains("@") && !$0.contains(" ") }
        if finder.status, !signers.isEmpty, !signers.contains(principal) {
            return "signed by \(signers.joined(separator: ", "))'s key, not by \(principal) named in the file"
        }
        if !finder.status {
            return "signed by a key that is not in the agent's allowed_signers"
        }
        let detail = output.split(separator: "\n").last.map(String.init) ?? "verification failed"
        if output.contains("namespace") || detail.contains("namespace") {
            return "signature is not for namespace \(Self.namespace): \(detail)"
        }
        return "signature does not match the file's bytes for \(principal): \(detail)"
    }

    private func run(_ command: String, _ environment: [String: String], in directory: String) -> (status: Bool, output: String) {
        let result = runner.capture(command, directory: directory, environment: environment, timeout: .seconds(30))
        return (result.succeeded, result.output)
    }

    static func digest(_ data: Data) -> String {
        SHA256.hash(data: data).hexString
    }
}
