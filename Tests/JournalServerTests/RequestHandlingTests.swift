import Foundation
import Journal
import JournalStore
import Testing

@testable import JournalServer

/// Requests as hostile or careless clients send them: encoded ids, misleading redirects, oversized
/// or broken input, other methods. Every one gets a clear 4xx, never a 500 or a hang.
@Suite struct RequestHandlingTests {
    @Test func idsInPathsAreDecodedOnceAndCheckedAgainstTheIdentifierRules() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let plain = try await server.request("GET", "/v1/customers/C-100002/timeline", role: .staff)
        let encoded = try await server.request("GET", "/v1/customers/C%2D100002/timeline", role: .staff)
        #expect(plain.status == 200 && encoded.status == 200)
        #expect(encoded.body == plain.body)
        #expect(try await server.request("GET", "/customers/C%2D100002", headers: ["Cookie": "tpj_session=\(server.session(for: .staff))"]).status == 200)

        // A customer whose id needs encoding can be written and read.
        let appended = try await server.request("POST", "/v1/customers/C-M%C3%BCller%201/events", role: .ingest,
                                                body: ServerTests.callBody(eventId: "0194c1b5-20bb-7275-8a1c-00000000aaa1"))
        #expect(appended.status == 201 && appended.document["customerId"] == "C-Müller 1", "\(appended.text)")
        #expect(try server.store.streamVersion(of: "C-Müller 1") == 1)
        #expect(try server.store.streamVersion(of: "C-M%C3%BCller%201") == 0)
        let slash = try await server.request("POST", "/v1/customers/C-100031%2Fx/events", role: .ingest,
                                             body: ServerTests.callBody(eventId: "0194c1b5-20bb-7275-8a1c-00000000aaa2"))
        #expect(slash.document["customerId"] == "C-100031/x")
        #expect(try server.store.streamVersion(of: "C-100031%2Fx") == 0)

        for (path, rule) in [("%20C-1", "identifier"), ("C-1%00", "identifier"), ("C-1%ZZ", "encoding"), (String(repeating: "x", count: 300), "identifier")] {
            let refused = try await server.request("GET", "/v1/customers/\(path)/timeline", role: .staff)
            #expect(refused.status == 400, "\(path)")
            #expect(refused.document["error"]?["details"]?["rule"] == .string(rule), "\(path): \(refused.text)")
        }
    }

    @Test func onlyAPathOfThisServerFollowsSignIn() async throws {
        for next in ["/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\\evil.example", "/a\\b", "//evil.example", "https://evil.example",
                     "/ /evil.example", "/\u{7F}/evil.example", "customers", ""] {
            #expect(JournalServer.safeNext(next) == "/customers", "\(next.debugDescription)")
        }
        for next in ["/customers/C-100002", "/at-risk?band=high&top=50", "/customers?q=M%C3%BCller"] {
            #expect(JournalServer.safeNext(next) == next)
        }
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let token = try #require(server.tokens[.staff])
        let signIn = try await server.request("POST", "/sign-in", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                              body: "token=\(token)&next=%2F%09%2Fevil.com")
        #expect(signIn.status == 303 && signIn.headers["location"] == "/customers")
    }

    @Test func badInputIsA4xxNeverA500() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let long = try await server.request("GET", "/v1/customers?q=" + String(repeating: "a", count: 50_001), role: .staff)
        #expect(long.status == 400 && long.document["error"]?["details"]?["rule"] == "maxLength")
        #expect(try await server.request("GET", "/customers?q=" + String(repeating: "a", count: 50_001), headers: ["Cookie": "tpj_session=\(server.session(for: .staff))"]).status == 200)

        let token = try #require(server.tokens[.ingest])
        let broken = try await offloadTest {
            let client = try HTTPTestClient(port: server.port)
            try client.send(raw: Array("POST /v1/customers/C-100001/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n".utf8))
            return try client.readResponse()
        }
        #expect(broken.status == 400 && broken.errorCode == "bad_request", "\(broken.text)")
    }

    /// A client that sends a body over the limit gets its 413 and the end of the connection, and is not
    /// left hanging while it writes the rest: the server reads and drops it, and closes the connection
    /// when the client is done, or has been silent for 5 s (on a loaded machine the client itself may be),
    /// or after 60 s. Either way the client's writes end — they never wait out the guard's timeout.
    @Test(arguments: [true, false])
    func anOversizedBodyIsAnsweredAndTheConnectionEnds(connectionClose: Bool) async throws {
        var settings = ServerSettings(host: "127.0.0.1", port: 0)
        settings.maxBodyBytes = 256 << 10
        let server = try await LiveServer.start(settings: settings)
        defer { Task { try await server.stop() } }
        let token = try #require(server.tokens[.ingest])
        let size = 8 << 20
        let head = "POST /v1/customers/C-100001/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\n"
            + (connectionClose ? "Connection: close\r\n" : "") + "Content-Length: \(size)\r\n\r\n"
        let (response, closed, sendError) = try await offloadTest {
            let client = try HTTPTestClient(port: server.port)
            try client.send(raw: Array(head.utf8))
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
            var sendError: Int32?
            for _ in 0..<(size >> 20) where sendError == nil { sendError = client.trySend(raw: chunk) }
            return (try client.readResponse(), client.closedByServer(), sendError)
        }
        #expect(response.status == 413 && response.errorCode == "payload_too_large")
        #expect(closed)
        #expect(sendError == nil || sendError == EPIPE || sendError == ECONNRESET, "errno \(sendError ?? 0)")
        #expect(try await server.request("GET", "/healthz").status == 200)
    }

    @Test func headMirrorsGetAndAnotherMethodIs405WithAllow() async throws {
        let server = try await LiveServer.start()
        defer { Task { try await server.stop() } }
        let get = try await server.request("GET", "/v1/customers/C-100002/timeline", role: .staff)
        let head = try await server.request("HEAD", "/v1/customers/C-100002/timeline", role: .staff)
        #expect(head.status == 200 && head.body.isEmpty)
        #expect(head.headers["content-length"] == String(get.body.count))
        #expect(head.headers["content-type"] == get.headers["content-type"])
        #expect(try await server.request("HEAD", "/healthz").status == 200)

        for (method, path, allow) in [
            ("DELETE", "/v1/customers/C-100002/timeline", "GET, HEAD"), ("POST", "/healthz", "GET, HEAD"),
            ("GET", "/v1/customers/C-100002/events", "POST"), ("PUT", "/sign-in", "GET, HEAD, POST"),
        ] {
            let response = try await server.request(method, path, role: .admin, body: method == "GET" ? nil : "{}")
            #expect(response.status == 405, "\(method) \(path)")
            #expect(response.headers["allow"] == allow, "\(method) \(path)")
            #expect(response.errorCode == "method_not_allowed")
        }
        #expect(try await server.request("GET", "/v1/nothing", role: .admin).status == 404)
    }
}
