import HTTPTypes
import Hummingbird
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
        #expect(Authentication.secret(in: Self.request([(.authorization, header)])) == secret)
    }

    @Test func theCookieCountsOnlyWithoutAnAuthorizationHeader() {
        let cookie = (HTTPField.Name.cookie, "theme=dark; tpj_token = tpj_fromcookie ;other=1")
        #expect(Authentication.secret(in: Self.request([cookie])) == "tpj_fromcookie")
        #expect(Authentication.secret(in: Self.request([cookie, (.authorization, "Bearer tpj_header")])) == "tpj_header")
        #expect(Authentication.secret(in: Self.request([(.cookie, "theme=dark")])) == nil)
        #expect(Authentication.secret(in: Self.request([])) == nil)
    }
}
