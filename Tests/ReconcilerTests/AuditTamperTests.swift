import Foundation
import Logging
import Reconciler
import TestSupport
import Testing

@Suite("Audit log: every kind of tampering is detected at the right seq")
struct AuditTamperTests {
    @Test("an untouched log verifies, and its head matches the anchor")
    func intact() throws {
        let fixture = try AuditFixture(records: 5)
        let result = try fixture.verify()
        #expect(result.isIntact)
        #expect(result.count == 5)
        #expect(result.head == (try fixture.store.auditAnchor()))
    }

    @Test("editing a field")
    func editedField() throws {
        let fixture = try AuditFixture(records: 5)
        var lines = try fixture.lines()
        lines[2] = lines[2].replacingOccurrences(of: #""stage":"dev""#, with: #""stage":"prod""#)
        try fixture.write(lines: lines)
        let problem = try #require(try fixture.verify().problem)
        #expect(problem.seq == 3)
        #expect(problem.kind == .hashMismatch)
    }

    @Test("editing whitespace inside a record")
    func editedWhitespace() throws {
        let fixture = try AuditFixture(records: 5)
        var lines = try fixture.lines()
        lines[1] = lines[1].replacingOccurrences(of: #","stage":"#, with: #", "stage":"#)
        try fixture.write(lines: lines)
        let problem = try #require(try fixture.verify().problem)
        #expect(problem.seq == 2)
        #expect(problem.kind == .hashMismatch)
    }

    @Test("deleting a record")
    func deleted() throws {
        let fixture = try AuditFixture(records: 5)
        var lines = try fixture.lines()
        lines.remove(at: 2)
        try fixture.write(lines: lines)
        let problem = try #require(try fixture.verify().problem)
        #expect(problem.seq == 3)
        #expect(problem.kind == .gap)
    }

    @Test("swapping two records")
    func swapped() throws {
        let fixture = try AuditFixture(records: 5)
        var lines = try fixture.lines()
        lines.swapAt(1, 2)
        try fixture.write(lines: lines)
        let problem = try #require(try fixture.verify().problem)
        #expect(problem.seq == 2)
        #expect(problem.kind == .gap)
    }

    @Test("inserting a forged record with a correctly recomputed hash")
    func forgedInsert() throws {
        let fixture = try AuditFixture(records: 5)
        let lines = try fixture.lines()
        // Forge seq 3 in another state directory whose chain matches ours up to seq 2.
        let forger = try AuditFixture(records: 0)
        try forger.write(lines: Array(lines.prefix(2)))
        try forger.store.setAuditAnchor(AuditAnchor(seq: 2, hash: try #require(try fixture.verify().head).hash))
        try forger.store.setAuditAnchor(try #require(AuditVerifier.verify(fileAt: forger.logPath, anchor: nil).head))
        let forgedLog = try forger.openLog()
        try forgedLog.append(AuditEvent("approval.accepted", pipeline: "olist", stage: "prod", actor: "mallory"))
        let forged = try #require(try forger.lines().last)
        try fixture.write(lines: Array(lines.prefix(2)) + [forged] + Array(lines.dropFirst(2)))
        let problem = try #require(try fixture.verify().problem)
        #expect(problem.seq == 4)
        #expect(problem.kind == .gap)
    }

    @Test("truncating the tail")
    func truncatedTail() throws {
        let fixture = try AuditFixture(records: 5)
        try fixture.write(lines: Array(try fixture.lines().prefix(3)))
        let problem = try #require(try fixture.verify().problem)
        #expect(problem.seq == 4)
        #expect(problem.kind == .missingTail)
    }

    @Test("replacing the file with an older copy")
    func olderCopy() throws {
        let fixture = try AuditFixture(records: 3)
        let older = try Data(contentsOf: URL(fileURLWithPath: fixture.logPath))
        let log = try fixture.openLog()
        try log.append(AuditEvent("promotion.started", pipeline: "olist", stage: "prod"))
        try older.write(to: URL(fileURLWithPath: fixture.logPath))
        let problem = try #require(try fixture.verify().problem)
        #expect(problem.seq == 4)
        #expect(problem.kind == .missingTail)
    }

    @Test("appending garbage")
    func garbage() throws {
        let fixture = try AuditFixture(records: 3)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: fixture.logPath))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("this is not a record\n".utf8))
        try handle.close()
        let problem = try #require(try fixture.verify().problem)
        #expect(problem.seq == 4)
        #expect(problem.kind == .notARecord)
    }

    @Test("an emptied file")
    func emptied() throws {
        let fixture = try AuditFixture(records: 3)
        try fixture.write(lines: [])
        let problem = try #require(try fixture.verify().problem)
        #expect(problem.seq == 1)
        #expect(problem.kind == .missingTail)
    }

    @Test("an intact chain whose anchor does not match")
    func anchorMismatch() throws {
        let fixture = try AuditFixture(records: 3)
        try fixture.store.setAuditAnchor(AuditAnchor(seq: 3, hash: String(repeating: "b", count: 64)))
        let problem = try #require(try fixture.verify().problem)
        #expect(problem.seq == 3)
        #expect(problem.kind == .anchorMismatch)
    }

    @Test("a record edited after the last verified point makes opening the log fail")
    func refusesToOpen() throws {
        let fixture = try AuditFixture(records: 3)
        var lines = try fixture.lines()
        lines[2] = lines[2].replacingOccurrences(of: "olist", with: "other")
        try fixture.write(lines: lines)
        #expect(throws: AuditError.self) { try fixture.openLog() }
    }

    @Test("a record edited before the last verified point: opening is quick, the background check refuses every append")
    func olderTamperingStopsTheLog() throws {
        let fixture = try AuditFixture(records: 3)
        var lines = try fixture.lines()
        lines[0] = lines[0].replacingOccurrences(of: "olist", with: "other")
        try fixture.write(lines: lines)
        let log = try fixture.openLog()
        let refusal = try #require(log.awaitFullCheck())
        guard case .tampered(_, let problem) = refusal else {
            Issue.record("expected tampering, got \(refusal)")
            return
        }
        #expect(problem.seq == 1 && problem.kind == .hashMismatch)
        #expect(throws: AuditError.self) { try log.append(AuditEvent("agent.started")) }
        #expect(try fixture.lines().count == 3, "nothing was appended after the tampering was found")
    }

    @Test("the background check reads the file, not a mapping: a log cut below the verified point is a problem")
    func prefixCheckOfACutLog() throws {
        let fixture = try AuditFixture(records: 5)
        let anchor = try #require(try fixture.store.auditAnchor())
        #expect(anchor.end != nil)
        #expect(try AuditVerifier.verifyPrefix(fileAt: fixture.logPath, anchor: anchor).isIntact)
        let lines = try fixture.lines()
        try fixture.write(lines: Array(lines.prefix(2)))
        let cut = try AuditVerifier.verifyPrefix(fileAt: fixture.logPath, anchor: anchor)
        #expect(cut.problem?.kind == .missingTail)
    }

    @Test("opening verifies only the tail: the anchored record must still end where the store says")
    func tailCheckFindsAMovedAnchor() throws {
        let fixture = try AuditFixture(records: 3)
        var lines = try fixture.lines()
        lines[0] += " "
        try fixture.write(lines: lines)
        #expect(throws: AuditError.self) { try fixture.openLog() }
    }
}
