import Foundation
import Journal
import JournalStore
import Testing

@testable import JournalServer

/// The server holds under abusive clients: live streams take their turn and are capped, a revoked
/// token's stream ends, and silent, slow or countless connections cannot starve appends and health checks.
@Suite struct ServerLimitsTests {
    /// Opens the live stream and reads its head.
    static func openStream(_ server: LiveServer, token: String, after: Int64 = 0) throws -> (status: Int, headers: [String: String], client: HTTPTestClient) {
        let client = try HTTPTestClient(port: server.port)
        try client.write(method: "GET", path: "/v1/events/stream?after=\(after)", headers: ["Authorization": "Bearer \(token)"], body: nil)
        let (status, headers) = try client.readHead()
        return (status, headers, client)
    }

    @Test func aStreamReadsEachPageInItsTurnLikeEveryRead() async throws {
        var settings = ServerSettings(host: "127.0.0.1", port: 0)
        settings.readConcurrency = 1
        let server = try await LiveServer.start(settings: settings)
        defer { Task { try await server.stop() } }
        let admission = try #require(server.journal.readAdmission)
        let (release, releaser) = AsyncStream.makeStream(of: Void.self)
        let holder = Task { await admission.admitted { for await _ in release { break } } }
        try await eventually("the read holds the one place") { admission.occupancy.running == 1 }

        let token = try #require(server.tokens[.analyst])
        let stream = try await offloadTest { try Self.openStream(server, token: token) }
        #expect(stream.status == 200)
        // The stream's first page waits behind the read that holds the place.
        try await eventually("the stream's page waits its turn") { admission.occupancy.waiting == 1 }
        releaser.yield()
        await holder.value
        let first = try await offloadTest { try stream.client.readEvent() }
        #expect(first?.id == "1")
    }

    @Test func streamsAreCappedPerTokenAndInAllAndAClosedOneGivesItsPlaceBack() async throws {
        var settings = ServerSettings(host: "127.0.0.1", port: 0)
        settings.maxStreams = 3
        settings.maxStreamsPerToken = 2
        let server = try await LiveServer.start(settings: settings)
        defer { Task { try await server.stop() } }
        let analyst = try #require(server.tokens[.analyst]), admin = try #require(server.tokens[.admin])
        let other = try AccessTokens(store: server.store).create(name: "second analyst", role: .analyst).secret

        let first = try await offloadTest { try Self.openStream(server, token: analyst) }
        let second = try await offloadTest { try Self.openStream(server, token: analyst) }
        #expect(first.status == 200 && second.status == 200)
        let third = try await server.request("GET", "/v1/events/stream", role: .analyst)
        #expect(third.status == 429)
        #expect(third.errorCode == "too_many_streams" && third.headers["retry-after"] == "5")

        let byAdmin = try await offloadTest { try Self.openStream(server, token: admin) }
        #expect(byAdmin.status == 200)
        let beyondAll = try await server.request("GET", "/v1/events/stream", token: other)
        #expect(beyondAll.status == 503)
        #expect(beyondAll.errorCode == "too_many_streams" && beyondAll.headers["retry-after"] == "5")

        // A client that goes gives its place back at once, not at the stream's next write.
        let streams = server.journal.streams
        #expect(streams.total == 3)
        first.client.close()
        try await eventually("the closed stream's place is free") { streams.total == 2 }
        let again = try await offloadTest { try Self.openStream(server, token: analyst) }
        #expect(again.status == 200)
        withExtendedLifetime((second.client, byAdmin.client, again.client)) {}
    }

    @Test func revokingATokenEndsItsOpenStream() async throws {
        var settings = ServerSettings(host: "127.0.0.1", port: 0)
        settings.streamHeartbeat = 0.2
        let server = try await LiveServer.start(settings: settings)
        defer { Task { try await server.stop() } }
        let tokens = AccessTokens(store: server.store)
        let created = try tokens.create(name: "feed consumer", role: .analyst)
        let head = try server.store.head()
        let stream = try await offloadTest { try Self.openStream(server, token: created.secret, after: head - 1) }
        #expect(stream.status == 200)
        #expect(try await offloadTest { try stream.client.readEvent() }?.id == "\(head)")

        _ = try tokens.revoke(created.token.id)
        let appended = try await server.request("POST", "/v1/customers/C-100001/events", role: .ingest,
                                                body: ServerTests.callBody(eventId: "0194c1b5-20bb-7275-8a1c-000000000777"))
        #expect(appended.status == 201)
        // The stream ends (the chunked body closes) without sending the event appended after the revocation.
        let next = try await offloadTest { try stream.client.readEvent() }
        #expect(next == nil, "the stream went on after its token was revoked: \(String(describing: next))")
        let refused = try await server.request("GET", "/v1/events/stream", token: created.secret)
        #expect(refused.status == 401)
    }

    @Test func silentSlowAndCountlessConnectionsLeaveRoomForAppendsAndHealthChecks() async throws {
        var settings = ServerSettings(host: "127.0.0.1", port: 0)
        settings.connections = ConnectionLimits(maxConnections: 64)
        settings.connections.headerTimeout = 1
        settings.connections.idleTimeout = 2
        let server = try await LiveServer.start(settings: settings)
        defer { Task { try await server.stop() } }
        let port = server.port, registry = server.journal.connections

        // Slow clients: a request head a byte at a time, never finished.
        let slow = try await offloadTest {
            try (0..<20).map { _ in
                let client = try HTTPTestClient(port: port)
                try client.send(raw: Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8))
                return client
            }
        }
        // Silent clients, far more than the cap.
        let silent = try await offloadTest { try (0..<1_000).map { _ in try HTTPTestClient(port: port) } }
        try await eventually("the server took every connection it was offered") {
            registry.counts.accepted >= 1_020
        }
        #expect(registry.counts.open <= 64)

        // Meanwhile the health check and an append answer.
        let health = try await server.request("GET", "/healthz")
        #expect(health.status == 200)
        let appended = try await server.request("POST", "/v1/customers/C-100001/events", role: .ingest,
                                                body: ServerTests.callBody(eventId: "0194c1b5-20bb-7275-8a1c-000000000888"))
        #expect(appended.status == 201)

        // The slow heads are closed by the header timeout, the silent ones by the cap or the idle timeout.
        let slowClosed = try await offloadTest { slow.allSatisfy { $0.closedByServer() } }
        #expect(slowClosed)
        let lastSilentClosed = try await offloadTest { silent.last!.closedByServer() }
        #expect(lastSilentClosed)
        #expect(registry.counts.evicted > 0)
        try await eventually("every silent connection is closed") { registry.counts.open == 0 }
    }

    @Test func aClientThatStopsReadingIsDisconnected() async throws {
        var settings = ServerSettings(host: "127.0.0.1", port: 0)
        settings.connections.slowReaderTimeout = 0.5
        let server = try await LiveServer.start(customers: 200, settings: settings)
        defer { Task { try await server.stop() } }
        let token = try #require(server.tokens[.analyst])
        // A small receive buffer, and nothing read: the stream's catch-up of every event fills the socket.
        let client = try HTTPTestClient(port: server.port, receiveBuffer: 4_096)
        try client.write(method: "GET", path: "/v1/events/stream?after=0", headers: ["Authorization": "Bearer \(token)"], body: nil)
        let registry = server.journal.connections
        try await eventually("the server closes the connection of the client that does not read") { registry.counts.slowReaders == 1 }
        #expect(try await offloadTest { client.closedByServer() })
        try await eventually("its stream gives its place back") { server.journal.streams.total == 0 }
    }
}
