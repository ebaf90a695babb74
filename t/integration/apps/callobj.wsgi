"""An instance with __call__ as the application."""


class App:
    def __init__(self, greeting):
        self.greeting = greeting

    def __call__(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [self.greeting]


application = App(b"callable instance ok")
