"""Storage adapters: SQLAlchemy models, repositories, the unit of work and migrations.

Import the modules you need (`bot.store.database`, `bot.store.uow`, `bot.store.migrate`);
nothing here connects to a database until asked to.
"""
