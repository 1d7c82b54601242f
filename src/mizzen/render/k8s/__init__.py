"""mizzen.render.k8s"""
