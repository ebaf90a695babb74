"""Class-based applications.

`application` is a class: calling it with (environ, start_response) makes an
instance, and the instance is the response iterable (the PEP 3333 example).
`greeter` is an instance whose __call__ is the application; mount it with

    GatewayScriptAlias /classapp /srv/apps/classapp.wsgi
    GatewayScriptAlias /greeter /srv/apps/classapp.wsgi callable-object=greeter
"""


class AppClass:
    def __init__(self, environ, start_response):
        self.environ = environ
        self.start_response = start_response

    def __iter__(self):
        # start_response may be called lazily, from inside the iteration
        self.start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"Hello from a class!\n"


application = AppClass


class Greeter:
    def __init__(self, greeting):
        self.greeting = greeting

    def __call__(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [self.greeting]


greeter = Greeter(b"Hello from an instance!\n")
