import Foundation
import SpecModel

/// `validate --config` on approval files, as the agent will judge them, so that a pull request adding
/// one fails its check instead of the approver learning days later that it never counted.
public enum ApprovalFileCheck {
    /// An error for a file whose signature would not verify for its approver against `allowedSigners`
    /// (missing, another principal's key, a key not listed, edited after signing) or that names an
    /// unknown pipeline or stage; a warning for one bound to an older version of its stage (it no longer
    /// counts, as the agent says when it reads it).
    public static func diagnostics(_ catalog: SpecCatalog, allowedSigners: String) -> [Diagnostic] {
        let verifier = SignatureVerifier(
            allowedSigners: allowedSigners, workDirectory: NSTemporaryDirectory(), runner: SystemCommandRunner())
        let pipelines = Dictionary(
            catalog.pipelines.map { ($0.pipeline.name, $0.pipeline) }, uniquingKeysWith: { first, _ in first })
        var found: [Diagnostic] = []
        for document in catalog.approvals {
            let approval = document.approval
            func report(_ severity: Severity, _ message: String) {
                found.append(Diagnostic(severity, file: document.file, at: document.location, message))
            }
            guard let stage = pipelines[approval.pipeline]?.stage(named: approval.stage) else {
                report(.error, "approval names \(approval.pipeline)/\(approval.stage), which no spec here defines")
                continue
            }
            guard let signature = FileManager.default.contents(atPath: document.file + ".sig") else {
                report(.error, "no signature next to it (\(document.file).sig): sign it with pipeline-agent approve")
                continue
            }
            let check = verifier.verify(
                file: FileManager.default.contents(atPath: document.file) ?? Data(), signature: signature,
                principal: approval.approver)
            if !check.valid {
                report(.error, "the signature does not count: \(check.problem ?? "it does not verify")")
            }
            let digest = ApprovalDigest.of(stage)
            if let signed = approval.stageDigest, signed != digest {
                report(
                    .warning,
                    "bound to an older version of \(approval.pipeline)/\(approval.stage) (\(signed.prefix(19))…, the stage is "
                        + "now \(digest.prefix(19))…): it no longer counts; approve again if you still vouch for it")
            }
        }
        return found
    }
}
