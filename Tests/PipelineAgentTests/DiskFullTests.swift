import Foundation
import TestSupport
import Testing

/// A state directory on a 2 MiB tmpfs: the disk fills up while a step writes its log.
@Suite("A full disk", .enabled(if: getuid() == 0, "skipped: mounting a small tmpfs needs root"))
struct DiskFullTests {
    @Test("a step log that fills the disk: a clear failure, no crash, the chain intact; recovery once space is back")
    func stepLogFillsTheDisk() throws {
        let stage = [
            "    - name: dev", "      steps:",
            // Floods its log only the first time (the marker lives outside the full disk).
            #"        - {name: noisy, run: 'if [ ! -e "$PA_ROOT/flooded" ]; then touch "$PA_ROOT/flooded"; head -c 4000000 /dev/zero | tr "\0" x; fi; cp app/version.txt "$PA_ROOT/deployed"'}"#,
        ].joined(separator: "\n")
        let fixture = try AgentFixture(stages: stage)
        let state = "\(fixture.root)/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try sh("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", state)
        defer { _ = try? runProcess(["umount", "-l", state]) }

        let full = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(full.status == 1, "a clear failure, not a crash (status \(full.status)): \(full.stderr)")
        #expect(
            full.stderr.contains("No space left on device") || full.stderr.contains("disk is full"), "says why: \(full.stderr)")
        #expect(!full.stderr.contains("Fatal error"))

        try sh("mount", "-o", "remount,size=64m", state)
        let logs = "\(state)/logs"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: logs)) ?? [] {
            try? FileManager.default.removeItem(atPath: "\(logs)/\(name)")
        }
        let again = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try fixture.agent("audit", "verify").status == 0)
        let v1 = try fixture.git.git("rev-parse", "HEAD")
        #expect(try fixture.status()["dev"]?["current"] as? String == v1)
        let types = try fixture.auditTypes()
        let started = types.filter { $0 == "promotion.started" }.count
        let ended = types.filter { ["promotion.succeeded", "promotion.failed", "promotion.interrupted"].contains($0) }.count
        #expect(started == ended, "every promotion has its terminal record (\(started) started, \(ended) ended)")
    }

    @Test("only the logs' disk is full: host-failed costs the candidate nothing; promoted once space is back")
    func logDiskFull() throws {
        let stage = [
            "    - name: dev", "      steps:",
            #"        - {name: noisy, run: 'if [ ! -e "$PA_ROOT/flooded" ]; then touch "$PA_ROOT/flooded"; head -c 3000000 /dev/zero | tr "\0" x; fi; cp app/version.txt "$PA_ROOT/deployed"'}"#,
        ].joined(separator: "\n")
        let fixture = try AgentFixture(stages: stage)
        let logs = "\(fixture.root)/state/logs"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        try sh("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", logs)
        defer { _ = try? runProcess(["umount", "-l", logs]) }

        let full = try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root])
        #expect(full.status == 1)
        #expect(full.stderr.contains("because of the host"), "\(full.stderr)")
        let log = try fixture.agent("audit", "log", "--output", "json").stdout
        #expect(log.contains("No space left on device"), "the reason is audited")
        #expect(log.contains(#""status":"host-failed""#))
        #expect(try fixture.status()["dev"]?["current"] is NSNull)

        try sh("mount", "-o", "remount,size=64m", logs)
        #expect(try fixture.agent("run", "--once", environment: ["PA_ROOT": fixture.root]).status == 0)
        #expect(try fixture.status()["dev"]?["current"] as? String == (try fixture.git.git("rev-parse", "HEAD")))
        #expect(try fixture.agent("audit", "verify").status == 0)
    }
}
