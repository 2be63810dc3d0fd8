import Foundation

/// What opening the log found, and how it was put right.
struct AuditRecovery {
    var head: AuditAnchor?
    var repairEvent: AuditEvent?
    var anchorNeedsUpdate = false
    /// Set when only the records after this anchor were verified: the rest is checked in the background.
    var prefixUnchecked: AuditAnchor?

    /// Verifies the log against the anchor. A torn last line (an append that never returned) is
    /// cut off; records written after the anchor (a crash between fsync and the anchor update) are
    /// adopted. Anything else — an edit, a gap, a missing tail — is tampering and is refused.
    static func prepare(path: String, anchors: AuditAnchorStore) throws -> AuditRecovery {
        let anchor: AuditAnchor?
        do {
            anchor = try anchors.auditAnchor()
        } catch {
            throw AuditError.anchorUnavailable(reason: "\(error)")
        }
        let tail = anchor.flatMap { anchor in
            (try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)).flatMap {
                AuditVerifier.verifyTail($0, anchor: anchor)
            }
        }
        let verification = try tail ?? AuditVerifier.verify(fileAt: path, anchor: anchor)
        var recovery = AuditRecovery(head: verification.head)
        if tail != nil { recovery.prefixUnchecked = anchor }
        var repairs: [String: JSONValue] = [:]
        switch verification.problem?.kind {
        case nil:
            return recovery
        case .tornTail:
            try cutTail(path, removing: verification.tornBytes)
            repairs["discardedBytes"] = .int(Int64(verification.tornBytes))
            let recheck = try AuditVerifier.verify(fileAt: path, anchor: anchor)
            if let problem = recheck.problem, problem.kind != .anchorBehind, problem.kind != .noAnchor {
                throw AuditError.tampered(path: path, problem: problem)
            }
            recovery.head = recheck.head
        case .anchorBehind, .noAnchor:
            break
        case .some:
            throw AuditError.tampered(path: path, problem: verification.problem ?? AuditProblem(seq: 0, kind: .gap, message: ""))
        }
        if recovery.head != anchor {
            repairs["anchorFrom"] = anchor.map { .int($0.seq) } ?? .null
            repairs["anchorTo"] = recovery.head.map { .int($0.seq) } ?? .null
            recovery.anchorNeedsUpdate = true
        }
        if !repairs.isEmpty {
            repairs["reason"] = "the agent stopped between writing the log and updating its anchor"
            recovery.repairEvent = AuditEvent("audit.repaired", detail: repairs)
        }
        return recovery
    }

    private static func cutTail(_ path: String, removing bytes: Int) throws {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        guard truncate(path, off_t(size - Int64(bytes))) == 0 else {
            throw AuditError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
    }
}
