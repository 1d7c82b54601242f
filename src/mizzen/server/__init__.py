"""mizzen.server"""
