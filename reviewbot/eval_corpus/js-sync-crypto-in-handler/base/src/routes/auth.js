const express = require("express");
const crypto = require("crypto");
const users = require("../users");

const router = express.Router();

router.post("/logout", (req, res) => {
  req.session.destroy(() => res.status(204).end());
});

module.exports = router;
