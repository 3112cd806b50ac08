import QGAGuest

@main enum QGAD {
    static func main() { Daemon.main() }
}
