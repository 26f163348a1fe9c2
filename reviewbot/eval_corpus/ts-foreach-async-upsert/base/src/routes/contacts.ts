import { Request, Response } from "express";
import { db } from "../db";

export async function listContacts(req: Request, res: Response) {
  const contacts = await db.contacts.findMany({ where: { ownerId: req.user.id }, take: 100 });
  res.json(contacts);
}
