import Foundation
import HTTPTypes
import Hummingbird
import JournalStore
import JournalTesting
import Testing

@testable import JournalServer

/// Where a request's secret is read from: the bearer header in its accepted forms, else the pages' cookie.
struct AuthenticationTests {
    static func request(_ fields: [(HTTPField.Name, String)]) -> Request {
        var headers = HTTPFields()
        for (name, value) in fields { headers.append(HTTPField(name: name, value: value)) }
        return Request(head: HTTPRequest(method: .get, scheme: "http", authority: "localhost", path: "/", headerFields: headers), body: .init(buffer: ByteBuffer()))
    }

    @Test(arguments: [
        ("Bearer tpj_abc", "tpj_abc"), ("bearer tpj_abc", "tpj_abc"), ("BEARER  tpj_abc \t", "tpj_abc"), (" Bearer\ttpj_abc", ""),
        ("Basic dXNlcjpwYXNz", ""), ("Bearer", ""), ("Bearer ", ""), ("", ""),
    ])
    func theBearerSchemeIsReadCaseInsensitivelyAndAnythingElseIsNoSecret(header: String, secret: String) {
        #expect(Authentication.bearer(in: Self.request([(.authorization, header)])) == secret)
    }

    @Test func theSessionCookieIsReadAmongOthersAndCountsForReadingPagesOnly() {
        let cookie = (HTTPField.Name.cookie, "theme=dark; tpj_session = tpjs_fromcookie ;other=1")
        #expect(Authentication.cookie(named: "tpj_session", in: Self.request([cookie])) == "tpjs_fromcookie")
        #expect(Authentication.cookie(named: "tpj_session", in: Self.request([(.cookie, "theme=dark")])) == nil)
        #expect(Authentication.bearer(in: Self.request([cookie])) == nil)
        func accepts(_ method: HTTPRequest.Method, _ path: String) -> Bool {
            Authentication.acceptsSession(Request(head: HTTPRequest(method: method, scheme: "http", authority: "localhost", path: path), body: .init(buffer: ByteBuffer())))
        }
        #expect(accepts(.get, "/customers/C-1") && accepts(.get, "/at-risk") && accepts(.head, "/customers"))
        #expect(!accepts(.post, "/v1/customers/C-1/events") && !accepts(.get, "/v1/customers/C-1/timeline") && !accepts(.get, "/metrics"))
        #expect(!accepts(.post, "/customers") && !accepts(.get, "/v1"))
    }
}
