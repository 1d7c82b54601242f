"""mizzen.server.routers"""
