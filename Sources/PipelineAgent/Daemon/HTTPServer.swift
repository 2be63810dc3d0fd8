import Foundation
import Hummingbird
import Logging
import Reconciler

/// The agent's HTTP surface: webhooks, probes, metrics, status and the read-only web page.
enum HTTPServer {
    /// Webhook bodies larger than this are refused with 413 (push payloads are far smaller).
    static let maxWebhookBytes = 1 << 20

    /// What the server reads and who may: the page's sources and the read token.
    struct Reading: Sendable {
        let web: WebSources
        let access: ReadAccess
    }

    static func application(
        listen: String, runtime: AgentRuntime, reading: Reading, verifier: WebhookVerifier?, logger: Logger
    ) throws -> some ApplicationProtocol {
        let (host, port) = try hostAndPort(listen)
        let store = reading.web.store
        let router = Router()
        router.add(middleware: PageSecurityMiddleware())
        // Probes stay open (an orchestrator's checks carry no token); the webhook has its own HMAC.
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            let storeProblem: String? = (try? store.stages()) == nil ? "state store unavailable" : nil
            guard let problem = storeProblem ?? runtime.readiness() else { return text(.ok, "ready\n") }
            return text(.serviceUnavailable, "not ready: \(problem)\n")
        }
        router.post("hooks/git") { request, _ -> Response in
            try await webhook(request, runtime: runtime, verifier: verifier, logger: logger)
        }
        let read = router.group().add(middleware: ReadAccessMiddleware(access: reading.access))
        read.get("metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: runtime.metrics.emit())))
        }
        read.get("api/v1/status") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: try StatusReport.current(store).json())))
        }
        WebRoutes.add(to: read, sources: reading.web, pages: try PageRenderer())
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: Int(port)), serverName: "pipeline-agent"),
            logger: logger)
    }

    private static func webhook(
        _ request: Request, runtime: AgentRuntime, verifier: WebhookVerifier?, logger: Logger
    ) async throws
        -> Response
    {
        guard let verifier else { return text(.notFound, "webhooks are not configured (http.webhookSecretEnv)\n") }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxWebhookBytes {
            return text(.contentTooLarge, "body over \(maxWebhookBytes) bytes\n")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxWebhookBytes)
        } catch {
            return text(.contentTooLarge, "body over \(maxWebhookBytes) bytes\n")
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        switch verifier.verify(headers: headers, body: Data(buffer: body)) {
        case .accepted(let source):
            logger.info("webhook accepted", metadata: ["source": "\(source)"])
            runtime.pushed()
            return text(.accepted, "accepted\n")
        case .rejected(let reason):
            if let suppressed = rejectionLog.admit() {
                logger.warning("webhook rejected", metadata: ["reason": "\(reason)", "suppressedSinceLast": "\(suppressed)"])
            }
            return text(.unauthorized, "\(reason)\n")
        }
    }

    /// One log line per 10 s for rejected webhooks: a flood of bad requests does not flood the log.
    static let rejectionLog = RateLimitedLog(interval: 10)

    private static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

extension HTTPServer {
    /// Fails the start when `listen` is malformed or its port is taken, before any pass runs: a second
    /// agent must not promote without its HTTP server.
    static func checkListenAddress(_ listen: String) throws {
        let (name, port) = try hostAndPort(listen)
        let host = name == "localhost" ? "127.0.0.1" : name
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return }  // a name or IPv6: the server reports it
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard probe >= 0 else { return }
        defer { close(probe) }
        var yes: Int32 = 1
        setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if bound != 0 { throw HTTPListenError(listen: listen, reason: String(cString: strerror(errno))) }
    }
}

extension HTTPServer {
    /// `http.listen` as host and port.
    static func hostAndPort(_ listen: String) throws -> (host: String, port: UInt16) {
        let parts = listen.split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { throw HTTPConfigError(listen: listen) }
        return (String(parts[0]), port)
    }
}

/// The HTTP port cannot be used.
struct HTTPListenError: Error, CustomStringConvertible {
    let listen: String
    let reason: String
    var description: String {
        "cannot listen on http.listen \(listen): \(reason); is another agent or program using the port? Change http.listen or stop it."
    }
}

/// `http.listen` is not host:port.
struct HTTPConfigError: Error, CustomStringConvertible {
    let listen: String
    var description: String { "http.listen '\(listen)' must be host:port, e.g. 127.0.0.1:8080" }
}

extension Data {
    init(buffer: ByteBuffer) {
        self = buffer.getData(at: buffer.readerIndex, length: buffer.readableBytes) ?? Data()
    }
}
