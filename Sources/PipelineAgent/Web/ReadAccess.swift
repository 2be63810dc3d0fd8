import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// Who may read the page, the status API and the metrics: anyone who reaches the port, or, with
/// `http.readTokenEnv`, only a request carrying the token (`Authorization: Bearer …` for tools,
/// HTTP Basic with the token as password for a browser, which asks once and keeps the URL clean).
struct ReadAccess: Sendable {
    private let tokenDigest: SHA256.Digest?

    /// `token`: nil or empty leaves reading open (StartupChecks refuses a named but empty variable).
    init(token: String?) {
        tokenDigest = token.flatMap { $0.isEmpty ? nil : SHA256.hash(data: Data($0.utf8)) }
    }

    var isOpen: Bool { tokenDigest == nil }

    /// Whether `authorization` (the header's value) carries the token.
    func admits(authorization: String?) -> Bool {
        guard let tokenDigest else { return true }
        guard let presented = Self.presentedToken(authorization) else { return false }
        // Digests compared whole: the time taken says nothing about how much of the token matched.
        return SHA256.hash(data: Data(presented.utf8)) == tokenDigest
    }

    static func presentedToken(_ authorization: String?) -> String? {
        guard let authorization else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        switch parts[0].lowercased() {
        case "bearer":
            return String(parts[1]).trimmingCharacters(in: .whitespaces)
        case "basic":
            guard let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
                let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
            else { return nil }
            return String(text[text.index(after: colon)...])
        default:
            return nil
        }
    }
}

/// Refuses a read without the token (401 asking for HTTP Basic, so that a browser prompts).
struct ReadAccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let access: ReadAccess

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard access.admits(authorization: request.headers[.authorization]) else {
            return Response(
                status: .unauthorized,
                headers: [
                    .wwwAuthenticate: #"Basic realm="pipeline-agent", charset="UTF-8""#, .contentType: "text/plain",
                    .cacheControl: "no-store",
                ],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: "this agent requires its read token (http.readTokenEnv): "
                            + "Authorization: Bearer <token>, or any user name with the token as password\n")))
        }
        return try await next(request, context)
    }
}

/// Headers on every page: nothing runs but the page's own stylesheet, it cannot be framed, and it
/// does not leak its URLs (which name pipelines and candidates) to other sites.
struct PageSecurityMiddleware<Context: RequestContext>: RouterMiddleware {
    static var contentSecurityPolicy: String {
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    }

    /// Names HTTPTypes does not predefine (the initializer refuses only names a token cannot hold).
    static var extraHeaders: [(HTTPField.Name, String)] {
        [("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY")].compactMap { name, value in
            HTTPField.Name(name).map { ($0, value) }
        }
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        for (name, value) in Self.extraHeaders { response.headers[name] = value }
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
