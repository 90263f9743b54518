import Journal
import Testing

@Suite struct EventIDTests {
    @Test func version7PutsTheMillisecondsFirstAndSetsVersionAndVariant() {
        let id = EventID.version7(milliseconds: 0x0190_F7A2_5B1C, random: (0x1122_3344_5566_7788, 0x99AA))
        #expect(id.rawValue == "0190f7a2-5b1c-7877-a655-44332211aa99")
        #expect(EventID(id.rawValue) == id)
        let zero = EventID.version7(milliseconds: 0, random: (0, 0))
        #expect(zero.rawValue == "00000000-0000-7000-8000-000000000000")
    }
}
