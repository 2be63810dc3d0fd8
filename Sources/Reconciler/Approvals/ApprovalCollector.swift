import Foundation
import GitSource
import SpecModel

/// Reads the approval files at the branch head and checks what does not depend on a stage:
/// links, size, YAML, and the detached signature against the agent's own `allowed_signers`
/// (never a file from the watched repository).
final class ApprovalCollector {
    static let directory = "approvals"
    /// Approval files and signatures are a few hundred bytes; anything larger is refused unread.
    static let maxBytes = 64 * 1024
    static let signatureHeader = "-----BEGIN SSH SIGNATURE-----"

    private let verifier: SignatureVerifier?
    private let trustProblem: String?
    private let scanner: CandidateScanner

    init(allowedSigners: String?, workDirectory: String, scanner: CandidateScanner, runner: any CommandRunner) {
        self.scanner = scanner
        if let allowedSigners {
            verifier = SignatureVerifier(allowedSigners: allowedSigners, workDirectory: workDirectory, runner: runner)
            trustProblem = nil
        } else {
            verifier = nil
            trustProblem = "the agent config has no trust.allowedSigners, so no approval can be verified"
        }
    }

    func collect(at head: ObjectID, in repository: GitRepository) throws -> [CheckedApproval] {
        let entries = try repository.tree(under: Self.directory, in: head)
        let byPath = Dictionary(entries.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        return try entries.filter { $0.path.hasSuffix(".yaml") || $0.path.hasSuffix(".yml") }.map { entry in
            try check(entry, signature: byPath[entry.path + ".sig"], head: head, repository: repository)
        }
    }

    private func check(
        _ entry: TreeEntry, signature: TreeEntry?, head: ObjectID, repository: GitRepository
    ) throws -> CheckedApproval {
        let version = "\(entry.id.short):\(signature?.id.short ?? "-")"
        func reject(_ reason: String, _ approval: Approval? = nil) -> CheckedApproval {
            CheckedApproval(file: entry.path, version: version, approval: approval, evidence: nil, rejection: reason)
        }
        guard entry.kind == .blob else { return reject("the approval file is a \(entry.kind.rawValue), not a regular file") }
        guard let bytes = try boundedBlob(entry, repository) else { return reject("larger than \(Self.maxBytes) bytes") }
        let parsed = SpecFile(path: entry.path, bytes: bytes)
        guard parsed.isValid, parsed.approvals.count == 1, parsed.pipelines.isEmpty,
            let approval = parsed.approvals.first?.approval
        else {
            let why = parsed.diagnostics.first.map { "\($0.location.line):\($0.location.column): \($0.message)" }
            return reject("not a valid approval document: \(why ?? "expected exactly one kind: Approval document")")
        }
        guard let signature else { return reject("unsigned: no \(entry.path).sig next to it", approval) }
        guard signature.kind == .blob else {
            return reject("the signature is a \(signature.kind.rawValue), not a regular file", approval)
        }
        guard let signatureBytes = try boundedBlob(signature, repository) else {
            return reject("signature larger than \(Self.maxBytes) bytes", approval)
        }
        guard String(decoding: signatureBytes.prefix(64), as: UTF8.self).hasPrefix(Self.signatureHeader) else {
            return reject("\(signature.path) is not an SSH signature", approval)
        }
        guard let verifier else { return reject(trustProblem ?? "no trust root", approval) }
        let verdict = verifier.verify(file: bytes, signature: signatureBytes, principal: approval.approver)
        guard verdict.valid, let fingerprint = verdict.fingerprint else {
            return reject(verdict.problem ?? "signature invalid", approval)
        }
        let evidence = ApprovalEvidence(
            principal: approval.approver, keyFingerprint: fingerprint, file: entry.path,
            addedIn: try lastChange(of: entry.path, head: head, repository: repository))
        return CheckedApproval(file: entry.path, version: version, approval: approval, evidence: evidence, rejection: nil)
    }

    private func boundedBlob(_ entry: TreeEntry, _ repository: GitRepository) throws -> Data? {
        do {
            return try repository.blob(entry.id, path: entry.path, maxBytes: Self.maxBytes)
        } catch let error as GitError where error.kind == .tooLarge {
            return nil
        }
    }

    /// The newest first-parent commit that changed the file: the one that brought this version in.
    private func lastChange(of path: String, head: ObjectID, repository: GitRepository) throws -> String? {
        try scanner.lastCommit(touching: path, from: head, in: repository)?.hex
    }
}
