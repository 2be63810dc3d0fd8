import Foundation
import Reconciler
import SpecModel
import TestSupport
import Testing

@Suite("Running step processes")
struct ProcessRunnerTests {
    private func run(
        _ command: String, in scratch: Scratch, timeout: Duration = .seconds(10), limit: Int = 1 << 20,
        environment: [String: String] = ["PATH": "/usr/bin:/bin"]
    ) -> (ProcessOutcome, String) {
        let log = scratch.sub("out-\(UUID().uuidString.prefix(6)).log")
        let outcome = ProcessRunner.run(
            command, directory: scratch.path, environment: environment, logPath: log, timeout: timeout, captureLimit: limit)
        return (outcome, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    @Test("exit status, stdout and stderr in one log, the working directory and the environment")
    func basics() throws {
        let scratch = try Scratch()
        let (ok, output) = run("echo out; echo err >&2; pwd; echo $GREETING", in: scratch, environment: ["GREETING": "hi"])
        #expect(ok.ending == .exited(0))
        #expect(output == "out\nerr\n\(scratch.path)\nhi\n")
        #expect(run("exit 3", in: scratch).0.exitStatus == 3)
    }

    @Test("a step inherits no descriptor of the agent beyond stdin, stdout and stderr")
    func noInheritedDescriptors() throws {
        let scratch = try Scratch()
        let leaked = open(scratch.sub("agent-secret.db"), O_CREAT | O_RDWR, 0o600)
        defer { close(leaked) }
        // ls runs as a child and lists the shell's descriptors; no pipe or redirection adds any.
        let (_, output) = run("ls /proc/$$/fd", in: scratch)
        #expect(output.split(separator: "\n").sorted() == ["0", "1", "2"])
    }

    @Test("output beyond the capture limit is dropped and counted")
    func captureLimit() throws {
        let scratch = try Scratch()
        let (outcome, output) = run("head -c 5000 /dev/zero | tr '\\\\0' x", in: scratch, limit: 1000)
        #expect(output.count == 1000)
        #expect(outcome.droppedBytes == 4000)
    }

    @Test("a timeout kills the whole process group, even a child that ignores SIGTERM")
    func timeoutKillsGroup() throws {
        let scratch = try Scratch()
        let started = ContinuousClock.now
        let (outcome, _) = run(
            "sh -c 'trap \"\" TERM; echo $$ > child.pid; sleep 60' & sleep 60", in: scratch, timeout: .milliseconds(500))
        #expect(outcome.ending == .timedOut)
        #expect(ContinuousClock.now - started < .seconds(10))
        let child = try String(contentsOfFile: scratch.sub("child.pid"), encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        var gone = false
        for _ in 0..<40 {
            let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)
            if stat == nil || stat?.contains(") Z ") == true { gone = true; break }
            usleep(50_000)
        }
        #expect(gone)
    }

    @Test("SIGTERM reaches the step (the agent's blocked signals are not inherited)")
    func signalsDefault() throws {
        let scratch = try Scratch()
        let (outcome, _) = run("kill -TERM $$; sleep 5", in: scratch)
        #expect(outcome.ending == .signalled(SIGTERM))
    }

    @Test("cancellation stops a running step")
    func cancellation() throws {
        let scratch = try Scratch()
        let flag = CancellationFlag(gracePeriod: .milliseconds(200))
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { flag.cancel() }
        let outcome = ProcessRunner.run(
            "sleep 30", directory: scratch.path, environment: [:], logPath: scratch.sub("c.log"), timeout: .seconds(60),
            captureLimit: 100, cancellation: flag)
        #expect(outcome.ending == .interrupted)
    }
}
