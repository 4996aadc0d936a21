// Noticing that an HTTP client went away while its request is still being
// worked on, so the engine can drop it at once.
//
// cpp-httplib (0.11) does not give a handler its connection's socket. Each
// connection is served by one worker thread, and the request carries the
// peer's and our own address, so the socket is found once per request by
// matching those addresses among the process's open sockets, then polled for
// a hang-up while the handler waits. Streaming responses need none of this:
// httplib's DataSink::is_writable() already checks the socket.
#pragma once

#include <string>

namespace sf::server {

class PeerWatch {
 public:
  // Finds the connected TCP socket with these endpoints; -1 if none found
  // (then closed() always answers false).
  PeerWatch(const std::string& remote_addr, int remote_port, int local_port);
  // True once the peer has closed or reset the connection.
  bool closed() const;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

}  // namespace sf::server
