const express = require("express");
const { findUserById } = require("../db/users");

const router = express.Router();

router.get("/users/:id", async (req, res) => {
  const user = await findUserById(req.params.id);
  if (!user) return res.sendStatus(404);
  res.json(user);
});

module.exports = router;
