"""mizzen.server.services"""
