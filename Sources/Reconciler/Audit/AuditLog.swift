import Foundation
import Logging

/// Why the audit log refuses to record; the agent must not act while this is thrown.
public enum AuditError: Error, CustomStringConvertible {
    case unwritable(path: String, reason: String)
    case tampered(path: String, problem: AuditProblem)
    case anchorUnavailable(reason: String)

    public var description: String {
        switch self {
        case .unwritable(let path, let reason):
            return "cannot write the audit log \(path): \(reason); refusing to act until it is writable"
        case .tampered(let path, let problem):
            return "the audit log \(path) failed verification at \(problem); refusing to act (run `audit verify`)"
        case .anchorUnavailable(let reason):
            return "cannot update the audit anchor in the state store: \(reason); refusing to act"
        }
    }
}

/// The append-only, hash-chained audit log. Every append is written and fsync'd before it
/// returns, so a record announcing an action is durable before the action starts.
public final class AuditLog: @unchecked Sendable {
    public static let fileName = "audit.jsonl"

    public let path: String
    private let anchors: AuditAnchorStore
    private let clock: @Sendable () -> Date
    private let redactor: SecretRedactor
    private let logger: Logger
    private let lock = NSLock()
    private var descriptor: Int32
    private var head: AuditAnchor?
    private var failure: AuditError?
    /// Bytes in the file: where the next record begins (stored with the anchor).
    private var size: Int64 = 0
    /// Done when the records before the verified point have been checked again.
    private let prefixChecked = DispatchGroup()

    /// Opens the log in `directory`, verifies it against the anchor and repairs a crash in the
    /// safe direction (writing an `audit.repaired` record); throws when the log was tampered with.
    public init(
        directory: String, anchors: AuditAnchorStore, redactor: SecretRedactor = .none, logger: Logger,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        path = "\(directory)/\(Self.fileName)"
        self.anchors = anchors
        self.clock = clock
        self.redactor = redactor
        self.logger = logger
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        descriptor = -1
        let recovery = try AuditRecovery.prepare(path: path, anchors: anchors)
        descriptor = try Self.openForAppend(path)
        size = Int64(lseek(descriptor, 0, SEEK_END))
        head = recovery.head
        if let repair = recovery.repairEvent {
            try append([repair])
            logger.warning("audit log repaired after a crash", metadata: ["detail": "\(repair.detail)"])
        } else if recovery.anchorNeedsUpdate, let head {
            try storeAnchor(AuditAnchor(seq: head.seq, hash: head.hash, end: size))
        }
        if let verifiedPoint = recovery.prefixUnchecked { checkPrefixInBackground(up: verifiedPoint) }
    }

    /// Opening verified only the records after the last verified point; the ones before are checked here,
    /// off the start-up path. Tampering found there stops the log: no record, hence no action, follows.
    private func checkPrefixInBackground(up anchor: AuditAnchor) {
        prefixChecked.enter()
        Thread.detachNewThread { [self] in
            defer { prefixChecked.leave() }
            let problem: AuditProblem?
            do {
                let verification = try AuditVerifier.verifyPrefix(fileAt: path, anchor: anchor)
                problem = verification.problem
            } catch {
                problem = AuditProblem(seq: 0, kind: .notARecord, message: "cannot read the log again: \(error)")
            }
            guard let problem else { return }
            logger.critical("the audit log was tampered with before its last verified point", metadata: ["problem": "\(problem)"])
            lock.withLock { failure = .tampered(path: path, problem: problem) }
        }
    }

    /// Waits until the records before the verified point were checked (at most `timeout`); returns why
    /// the log refuses to record, if it does.
    public func awaitFullCheck(timeout: Duration = .seconds(600)) -> AuditError? {
        _ = prefixChecked.wait(timeout: .now() + timeout.timeInterval)
        return lock.withLock { failure }
    }

    /// Why the log refuses to record (tampering found, a write that failed), or nil.
    public var refusal: AuditError? { lock.withLock { failure } }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// The newest record's seq and hash.
    public var currentHead: AuditAnchor? { lock.withLock { head } }

    /// Appends one event; returns its sealed record once it is on disk.
    @discardableResult
    public func append(_ event: AuditEvent) throws -> AuditRecord {
        try append([event])[0]
    }

    /// Appends events with one write and one fsync; all or none are acknowledged. `anchoring` moves the
    /// anchor instead of the anchor store (the recorder moves it together with the state changes).
    @discardableResult
    public func append(
        _ events: [AuditEvent], anchoring: ((AuditAnchor) throws -> Void)? = nil
    ) throws -> [AuditRecord] {
        guard let (records, anchor) = try appendAwaitingAnchor(events) else { return [] }
        try settle(anchor, with: anchoring)
        return records
    }

    /// Appends events durably and returns the anchor they move the log to, which the caller must pass to
    /// `settle` before anything else is appended (the recorder's gate keeps the two together). Until then the
    /// store's anchor lags the file, which opening the log adopts as after any crash in between.
    func appendAwaitingAnchor(_ events: [AuditEvent]) throws -> (records: [AuditRecord], anchor: AuditAnchor)? {
        try lock.withLock {
            if let failure { throw failure }
            let records = AuditRecord.seal(events, after: head, time: AuditTime.format(clock()), redactor: redactor)
            guard let last = records.last else { return nil }
            let text = records.map { $0.canonicalLine + "\n" }.joined()
            let data = Data(text.utf8)
            try writeDurably(data)
            size += Int64(data.count)
            head = AuditAnchor(seq: last.seq, hash: last.hash)
            return (records, AuditAnchor(seq: last.seq, hash: last.hash, end: size))
        }
    }

    /// Stores the anchor returned by `appendAwaitingAnchor`; a failure stops the log.
    func settle(_ anchor: AuditAnchor, with anchoring: ((AuditAnchor) throws -> Void)? = nil) throws {
        try lock.withLock { try storeAnchor(anchor, with: anchoring) }
    }

    private func writeDurably(_ data: Data) throws {
        let written = data.withUnsafeBytes { buffer -> Int in
            guard let base = buffer.baseAddress else { return 0 }
            var offset = 0
            while offset < buffer.count {
                let result = write(descriptor, base + offset, buffer.count - offset)
                if result < 0 {
                    if errno == EINTR { continue }
                    return -1
                }
                offset += result
            }
            return offset
        }
        guard written == data.count, fsync(descriptor) == 0 else {
            let error = AuditError.unwritable(path: path, reason: String(cString: strerror(errno)))
            failure = error
            throw error
        }
    }

    private func storeAnchor(_ anchor: AuditAnchor, with anchoring: ((AuditAnchor) throws -> Void)? = nil) throws {
        do {
            if let anchoring { try anchoring(anchor) } else { try anchors.setAuditAnchor(anchor) }
        } catch {
            let failed = AuditError.anchorUnavailable(reason: "\(error)")
            failure = failed
            throw failed
        }
    }

    static func openForAppend(_ path: String) throws -> Int32 {
        let existed = FileManager.default.fileExists(atPath: path)
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            throw AuditError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
        if !existed { syncDirectory(of: path) }
        return descriptor
    }

    /// Makes a newly created file's directory entry durable too.
    static func syncDirectory(of path: String) {
        let directory = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY)
        guard directory >= 0 else { return }
        fsync(directory)
        close(directory)
    }
}
